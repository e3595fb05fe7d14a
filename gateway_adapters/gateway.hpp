#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/money.hpp"
#include "tokenizer/card_data.hpp"

namespace billpay::gateway {

/// The moment an outbound call must be finished by. Every call below takes one; an adapter that
/// has not heard back by then answers `unknown` (for a call that may have reached the processor)
/// or `failed` (for one that surely did not).
using deadline = std::chrono::steady_clock::time_point;

/// What the processor said, in billpayd's terms. Only `approved` and `declined` (and, where a
/// call's comment says so, `failed`) settle what happened; "unknown is not no".
enum class outcome {
    approved,  // done: tokenized, charged, refunded, voided, deleted
    declined,  // the processor refused it for good; `decline_code` says why. Nothing moved, and
               // asking again under the same key gets the same answer
    failed,    // this request did nothing at the processor: it was never sent, or the processor
               // refused it before acting on it. On a first attempt nothing moved; on a repeat it
               // says nothing of the earlier attempt
    unknown,   // the request may have reached the processor and its answer was lost or does
               // not settle it (a timeout, a 5xx, a 429, an answer billpayd did not expect):
               // never repeat it blindly, look it up later
};

std::string_view to_string(outcome o) noexcept;

/// What a token is made for: where the processor keeps it.
enum class token_use {
    one_payment,  // this payment alone: forgotten (discard_token) once the payment is final
    saved_card,   // a card the account keeps: with the account's customer at the processor
};

/// The decline code of a tokenize (or adopt_token) that the processor refused because the
/// customer already has as many cards as it keeps (Authorize.Net: ten payment profiles).
inline constexpr std::string_view too_many_cards = "too_many_cards";
/// adopt_token's decline: the browser's token belongs to another customer at the processor
/// (a Stripe PaymentMethod attached to a Customer that is not this account's).
inline constexpr std::string_view token_not_owned = "processor_token_not_owned";

struct tokenize_result {
    outcome result = outcome::failed;
    std::string token;         // the processor's reusable reference to the card
    std::string decline_code;  // e.g. "incorrect_number"
    std::string message;       // for the log; never card data
    /// The processor answered with a token it already held for this card (Authorize.Net keeps
    /// one payment profile per card and customer): it may be a saved card's, so it is never
    /// deleted as a spare.
    bool reused = false;
};

struct charge_request {
    std::string token;
    model::money amount;
    /// Our key for this charge, sent to the processor so that it never charges twice for it
    /// (billpayd uses the payment id).
    std::string idempotency_key;
    /// What the processor's records and statements show; never an account number (processors
    /// see a keyed pseudonym of the account at most).
    std::string description;
    /// When the charge was first sent (RFC 3339, UTC): a lookup need search nothing older.
    std::string created_at;
};

struct charge_result {
    outcome result = outcome::failed;
    std::string processor_reference;  // the processor's id for the charge
    std::string decline_code;         // billpayd's codes: generic_decline, insufficient_funds, ...
    std::string message;
    /// With `unknown` from lookup: the processor's record cannot settle it yet, but will in
    /// this long (Authorize.Net: absence is its "no" only once the charge's settlement day has
    /// closed). Recovery asks again then and does not count the wait toward review. 0: ask
    /// again as usual.
    std::chrono::milliseconds ask_again_after{0};
};

struct refund_request {
    std::string processor_reference;  // the charge
    model::money amount;
    std::string idempotency_key;
    std::string token;       // the card token the charge was made with
    std::string card_last4;  // the charged card's last 4 (Authorize.Net refunds name it)
    /// This key was sent before and its answer was lost: "not refunded" (`declined`) may then be
    /// concluded only from the processor's own record of the first attempt.
    bool retry = false;
    /// When the refund was first asked for (RFC 3339, UTC): a search for it need go no further.
    std::string requested_at;
};

struct refund_result {
    outcome result = outcome::failed;
    std::string processor_reference;  // the refund's (or void's) id
    std::string decline_code;
    std::string message;
    /// The processor cancelled the unsettled charge instead of refunding it: nothing moved.
    bool voided = false;
};

struct delete_result {
    outcome result = outcome::failed;
    std::string message;
};

/// The customer records billpayd made at the processor (Authorize.Net: customer profiles).
struct customer_list {
    outcome result = outcome::failed;  // approved: `ids` is the whole list
    std::vector<std::string> ids;
    std::string message;
};

/// A card tokenized in the customer's browser by the processor's own script, so that billpayd
/// never sees its number. One of the two forms, by processor.
struct browser_token {
    std::string id;          // Stripe.js: a PaymentMethod id, pm_…
    std::string descriptor;  // Accept.js: opaqueData.dataDescriptor
    std::string value;       // Accept.js: opaqueData.dataValue (a one-time nonce, 15 minutes)

    [[nodiscard]] bool is_opaque_data() const noexcept { return id.empty(); }
    /// One string for the idempotency fingerprint of a request.
    [[nodiscard]] std::string canonical() const {
        return is_opaque_data() ? descriptor + "\n" + value : id;
    }
};

/// What the processor knows of a card behind a browser token, once billpayd has adopted it:
/// the reusable token to charge (Stripe: the pm_ itself; Authorize.Net: a customer payment
/// profile made from the nonce), brand, last 4 and expiry, and the processor's own card
/// fingerprint, which billpayd keys again before keeping it.
struct token_description {
    outcome result = outcome::failed;  // approved: the fields below are filled
    std::string token;
    std::string brand;  // billpayd's brand names (visa, mastercard, …)
    std::string last4;
    int exp_month = 0;
    int exp_year = 0;
    std::string processor_fingerprint;
    std::string decline_code;  // when declined for a reason other than an unknown token
    std::string message;
    bool reused = false;  // as tokenize_result::reused
};

/// One transaction a processor settled (paid out), as its API lists it.
struct settled_transaction {
    std::string id;             // the processor's transaction id (a charge's or a refund's)
    bool refund = false;        // a refund given back, else a charge paid in
    model::money amount;        // positive
    std::string settled_at;     // RFC 3339 UTC, to the second
    std::string settlement_id;  // the batch or payout it was settled in
};

struct settlement_list {
    outcome result = outcome::failed;  // approved: `transactions` is complete for the days
    std::string message;
    std::vector<settled_transaction> transactions;
};

/// A payment processor, as billpayd needs it (in the spirit of ActiveMerchant's gateways and
/// Hyperswitch's connectors). Implementations live one per folder below this one. Every call
/// returns the processor's answer as a value and never throws for it: declines, errors,
/// timeouts and lost connections are outcomes, caught at the adapter's own edge.
///
/// Arguments are taken by reference and must outlive the co_await: pass named objects, never
/// temporaries (GCC 12 destroys temporaries in co_await expressions twice, bug 101367).
class gateway {
  public:
    virtual ~gateway() = default;

    /// The processor's name as stored with each payment: "simulator", "stripe", ...
    [[nodiscard]] virtual std::string_view name() const noexcept = 0;

    /// Turns card data into a processor token. `customer_reference` (a keyed pseudonym of the
    /// account, never its number) ties a saved card's token to the customer at processors that
    /// keep customer profiles; a one-payment token is kept apart from them. The caller wipes
    /// `card` right after this returns.
    virtual boost::asio::awaitable<tokenize_result> tokenize(const tokenizer::card_data& card,
                                                             const std::string& customer_reference,
                                                             token_use use, deadline by) = 0;

    /// Charges a token, the first time under `request.idempotency_key` (a fresh payment id).
    /// The processor must treat a repeat of the same key as the same charge. `failed` means
    /// nothing was charged: the request never left billpayd, or the processor said it failed.
    /// Anything that does not settle it (no answer, a 5xx, a 429, an answer billpayd does not
    /// expect) is `unknown`: the payment stays pending and is looked up.
    virtual boost::asio::awaitable<charge_result> charge(const charge_request& request,
                                                         deadline by) = 0;

    /// What became of a charge whose answer was lost, by our key: the same request as the
    /// charge's. It is asked only once the charge's window has closed (its deadline and a
    /// margin have passed, so the first attempt can no longer arrive). `approved`: charged;
    /// `declined`: refused for good; `failed`: the processor's definitive word that it holds no
    /// charge under this key and never will (Stripe: its stored answer to our key;
    /// Authorize.Net: both transaction lists read, no such invoice, and its record for the
    /// charge's time complete: docs/processors.md); `unknown`: not learned now
    /// (not reached, timed out, rate limited, an answer that does not settle it): ask again.
    virtual boost::asio::awaitable<charge_result> lookup(const charge_request& request,
                                                         deadline by) = 0;

    /// Gives back part or all of a charge. Asked again with the same idempotency key (after an
    /// unknown answer, with `request.retry`), it must not refund twice: it answers what the
    /// first attempt did, and `declined` only when that is the processor's record of it.
    /// Processors that refund only settled charges void an unsettled one here (`voided`).
    virtual boost::asio::awaitable<refund_result> refund(const refund_request& request,
                                                         deadline by) = 0;

    /// Cancels a charge that has not settled yet (some processors refund only settled ones).
    virtual boost::asio::awaitable<refund_result> void_charge(const refund_request& request,
                                                              deadline by) = 0;

    /// What the processor settled on the days `first_day` to `last_day` (YYYY-MM-DD, at most 31
    /// days), in `unit`, read through its API, for reconciliation. Processors whose settlements
    /// come as a report file instead (Stripe's itemized payout report) answer `declined`.
    virtual boost::asio::awaitable<settlement_list> settlements(const std::string& first_day,
                                                                const std::string& last_day,
                                                                model::currency unit, deadline by);

    /// Forgets a saved card's token at the processor.
    virtual boost::asio::awaitable<delete_result> delete_token(const std::string& token,
                                                               deadline by) = 0;

    /// Forgets a token made for one payment (by tokenize or adopt_token, not one the processor
    /// already held) once that payment is final and the card was not saved: what the processor
    /// keeps of it counts against the customer (Authorize.Net: ten payment profiles). A
    /// processor that keeps nothing to forget answers approved.
    virtual boost::asio::awaitable<delete_result> discard_token(const std::string& token,
                                                                deadline by) = 0;

    /// Every customer record at the processor (`billpayctl processor purge-profiles` keeps only
    /// those a token in use names). A processor that keeps none billpayd must clear answers
    /// approved with none: the simulator and Stripe, whose one-payment PaymentMethods are never
    /// attached and whose saved cards go with delete_token.
    virtual boost::asio::awaitable<customer_list> list_customers(deadline /*by*/) {
        co_return customer_list{outcome::approved, {}, ""};
    }

    /// The customer record a token of this processor lives in; nullopt when it has none.
    [[nodiscard]] virtual std::optional<std::string> customer_of(
        const std::string& /*token*/) const {
        return std::nullopt;
    }

    /// Deletes a customer record with everything in it, only if billpayd made it (a record of
    /// another system on the same merchant account is `declined`, untouched).
    virtual boost::asio::awaitable<delete_result> forget_customer(const std::string& /*id*/,
                                                                  deadline /*by*/) {
        co_return delete_result{outcome::declined, "this processor keeps no customer records"};
    }

    /// Takes a token the portal obtained in the customer's browser, so that billpayd never sees
    /// the card number at all: makes it chargeable where the processor needs that (for `use`,
    /// as tokenize does) and describes its card. `declined` when the
    /// processor does not know it, it has expired, or it is not this processor's kind of token
    /// (the simulator makes none).
    virtual boost::asio::awaitable<token_description> adopt_token(
        const browser_token& token, const std::string& customer_reference, token_use use,
        deadline by) = 0;
};

}  // namespace billpay::gateway
