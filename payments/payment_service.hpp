#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"
#include "payments/failures.hpp"
#include "payments/requests.hpp"
#include "store/payment_store.hpp"
#include "tokenizer/card_checks.hpp"

namespace billpay::payments {

/// Renders the answer a payment's idempotency key replays (the API's HTTP answer: status and
/// body). The API implements it; the use case calls it so that the answer is written in the
/// same transaction as the payment's state, and never speaks HTTP itself.
class answer_renderer {
  public:
    virtual ~answer_renderer() = default;
    [[nodiscard]] virtual model::stored_response render(const model::payment_record& payment,
                                                        const std::string& request_id) const = 0;
};

/// How a payment request ended.
enum class pay_status {
    // A payment exists, and the answer its key replays is written with it:
    succeeded,
    declined,
    failed,   // nothing was charged: the processor's own word (or the charge never left)
    pending,  // the processor's answer is not known yet: recovery learns it and sends the receipt
    // No payment; the answer is the API's to record (a decline) or give back (the rest):
    refused,                  // one of the shared failures: `pay_result::why`
    no_such_payment_method,   // or it is another account's
    payment_method_unusable,  // saved with a processor billpayd no longer uses
    possible_duplicate,       // this bill was paid (or is being paid) recently
    key_lost,                 // the Idempotency-Key is no longer this request's: nothing done
    open_not_written,         // OPEN failed and wrote nothing: nothing charged, key given back
    // OPEN's answer was lost and what it did could not be learned: the pending payment may
    // stand (recovery then charges it). The key is left as it is, so a retry with it finds the
    // payment (409 while it runs, then its answer), or, if none was written, runs afresh once
    // the key's lease is over. Never "nothing was charged".
    outcome_unknown,
};

struct pay_result {
    pay_status status = pay_status::refused;
    failure why = failure::store_unavailable;  // refused
    /// The payment as it now stands, for the four payment statuses (pending also when the
    /// outcome was learned but could not be written: recovery learns it again).
    std::optional<model::payment_record> payment;
    std::string decline_code;                     // card_declined
    std::optional<std::string> existing_payment;  // possible_duplicate
};

/// How it ended, for the access log line ("succeeded", "card_declined", "possible_duplicate",
/// ...): the failure's name when refused.
std::string_view to_string(const pay_result& result) noexcept;

/// A pay_result taken for a step's value (boost::system::result's hook): a logic error.
[[noreturn]] void throw_exception_from_error(const pay_result& ended,
                                             const boost::source_location& loc);

enum class save_status {
    saved,          // a new saved card
    already_saved,  // the account had this card: that one
    refused,        // one of the shared failures: `save_result::why`; nothing kept
};

struct save_result {
    save_status status = save_status::refused;
    failure why = failure::store_unavailable;  // refused
    std::optional<model::payment_method_record> method;
    std::string decline_code;
};

enum class delete_status {
    deleted,
    not_found,  // no such saved card for this account
    refused,    // one of the shared failures (`delete_result::why`): the card is still saved
};

struct delete_result {
    delete_status status = delete_status::refused;
    failure why = failure::store_unavailable;  // refused
};

/// The payment use case (shared/DESIGN.md, "one payment, step by step", step 4): pay a bill,
/// save a card, delete a card. Plain C++: it takes parsed requests and returns values; the API
/// authenticates, claims the Idempotency-Key, and renders. A payment is two durable writes:
/// OPEN (the pending payment, tied to its key, past the duplicate-bill guard) before any money
/// moves, and FINISH (its outcome, the answer its key replays and its receipt) before the
/// portal is answered. Reads config sections `payments` and `gateway`.
class payment_service {
  public:
    payment_service(const config::settings& settings, store::payment_store& store,
                    gateway::gateway& processor, const tokenizer::fingerprinter& fingerprints,
                    const answer_renderer& answers);

    /// The utility's rules on a payment (config `payments`: currencies, amount limits,
    /// metadata keys): a refusal, or nullopt for a request pay() may take. The API asks before
    /// it claims the request's key, so a refused request leaves nothing behind.
    [[nodiscard]] std::optional<refusal> check(const pay_request& request) const;

    /// Pays a request check() passed, in four steps, each a function below: the card as a token
    /// (tokenized, adopted, or a saved one; the card wiped as soon as it is tokenized), OPEN,
    /// the charge under the payment's id, FINISH.
    boost::asio::awaitable<pay_result> pay(pay_request& request);

    /// Tokenizes (or adopts) the card and keeps it for the account; the same card twice is the
    /// same saved card.
    boost::asio::awaitable<save_result> save_card(save_card_request& request);

    /// Forgets a saved card at the processor, then here.
    boost::asio::awaitable<delete_result> delete_card(const std::string& account_number,
                                                      const std::string& payment_method_id);

  private:
    /// A step of pay(): its value, or how the payment ended there.
    template <class T>
    using step = boost::system::result<T, pay_result>;

    /// 1. The card as a token the processor can charge: the payment's card, token and whether
    /// billpayd made the token (to forget it when it is spare).
    boost::asio::awaitable<step<model::payment_record>> token_for(pay_request& request);
    /// 2. OPEN: the pending payment, tied to its key, past the duplicate-bill guard.
    boost::asio::awaitable<step<model::payment_record>> open(const pay_request& request,
                                                             model::payment_record payment);
    /// OPEN's answer was lost: what it did, learned from the key, or how the payment ended.
    boost::asio::awaitable<step<store::open_result>> learn_lost_open(
        const pay_request& request, const store::open_request& open, store::error failure);
    /// 3. The charge, and the card kept when asked and paid.
    boost::asio::awaitable<model::payment_outcome> charge(const pay_request& request,
                                                          const model::payment_record& pending);
    /// 4. FINISH: the outcome, the answer the key replays and the receipt, in one transaction.
    boost::asio::awaitable<pay_result> finish(const pay_request& request,
                                              const model::payment_record& pending,
                                              const model::payment_outcome& outcome);

    [[nodiscard]] gateway::deadline processor_deadline() const;
    /// Forgets, at the processor, a token that was made for a payment that is now final and
    /// did not keep its card (best effort: logged when it fails).
    boost::asio::awaitable<void> discard_if_spare(const model::payment_record& payment);
    /// Forgets the token made for a payment that was never written (best effort: logged).
    boost::asio::awaitable<void> discard_unused_token(const model::payment_record& payment,
                                                      const std::string& request_id);
    /// What billpayd keeps of a card tokenized in the browser, from the processor's account.
    [[nodiscard]] model::card_record card_from_token(
        const gateway::token_description& described) const;

    const config::settings& settings_;
    store::payment_store& store_;
    gateway::gateway& processor_;
    const tokenizer::fingerprinter& fingerprints_;
    const answer_renderer& answers_;
};

/// The processor charge for a payment. A lookup sends exactly the same request (processors
/// compare a repeated idempotency key's parameters), so both build it here. The processor sees
/// the account only as its keyed pseudonym (fingerprinter::of_account), and no bill id.
gateway::charge_request charge_request_for(const model::payment_record& payment,
                                           const tokenizer::fingerprinter& fingerprints);

/// The same as a function both the request and recovery use to forget a spare token.
boost::asio::awaitable<void> discard_spare_token(gateway::gateway& processor,
                                                 const model::payment_record& payment,
                                                 gateway::deadline by);

}  // namespace billpay::payments
