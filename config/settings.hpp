#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "config/secret.hpp"

namespace billpay::config {

/// The whole of billpayd's configuration, as plain values. Only config/ reads YAML; every other
/// folder receives the section it needs from here. Defaults below are the documented ones
/// (config/billpayd.example.yaml).

struct tls_settings {
    std::filesystem::path certificate;
    std::filesystem::path private_key;
    /// When set, clients must present a certificate issued by this CA.
    std::optional<std::filesystem::path> client_ca;
    /// A session ticket key encrypts new tickets this long, and opens tickets for as long again
    /// (then it is wiped): a stolen key reveals at most two periods of resumed sessions.
    std::chrono::milliseconds ticket_key_rotation{std::chrono::hours(1)};
};

struct listen_settings {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8443;  // 0 asks the kernel for a free port (tests); the log names it
    int threads = 2;
    int max_connections = 10000;
    /// Open connections from one address at most (a portal behind a proxy may need many; one
    /// abusive host must not take every slot).
    int max_connections_per_address = 2000;
    /// The kernel's send buffer of each connection (SO_SNDBUF), so that a client that reads
    /// slowly holds this much kernel memory at most, and meets write_timeout soon. 0: the
    /// kernel's own sizing (up to net.ipv4.tcp_wmem, 4 MiB by default).
    int send_buffer_bytes = 128 * 1024;
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 64 * 1024;
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds read_timeout{10'000};
    std::chrono::milliseconds write_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    /// A connection that has not yet authenticated (no request of a client so far) may wait
    /// this long for its next request, instead of idle_timeout.
    std::chrono::milliseconds unauthenticated_idle_timeout{5'000};
    std::chrono::milliseconds shutdown_grace{10'000};
    tls_settings tls;
};

/// database.pool_size when the config says nothing: 8 connections per core of this machine
/// (a connection mostly waits for its commit's WAL flush, not for a CPU), at least 8, at most
/// 64. docs/operations.md says how to size it.
inline int default_pool_size() noexcept {
    const auto cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    return std::clamp(8 * cores, 8, 64);
}

struct database_settings {
    secret dsn;
    int pool_size = default_pool_size();
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds statement_timeout{10'000};
    /// A request's database work that waited this long for a connection is not run: the request
    /// is answered 503 store_busy (Retry-After), rather than queueing without bound.
    std::chrono::milliseconds queue_timeout{2'000};
    /// At most this many requests' database work waits for a connection; past it a request is
    /// answered 503 store_busy at once.
    int queue_limit = 1'024;
};

/// portal: the customer portal; finance: finance staff's tools; ops: metrics and health;
/// billing: the utility's billing system, which announces bills.
enum class client_role { portal, finance, ops, billing };

struct client_settings {
    std::string id;
    client_role role = client_role::portal;
    /// SHA-256 of the client's API key (absent: the client authenticates by certificate only).
    std::optional<std::array<std::uint8_t, 32>> api_key_sha256;
    /// With listen.tls.client_ca: a client certificate whose subject CN is this is this client.
    std::optional<std::string> certificate_cn;
};

struct simulator_settings {
    std::chrono::milliseconds latency{0};
    /// The simulator's own ledger (a processor's memory, not billpayd's): a file it appends to.
    std::filesystem::path ledger;
};

/// Stripe's API (gateway_adapters/stripe/).
struct stripe_settings {
    std::string api_base = "https://api.stripe.com";
    secret secret_key;                             // sk_live_… / sk_test_…
    std::optional<std::filesystem::path> ca_file;  // trust only this CA (tests, proxies)
    std::chrono::milliseconds timeout{30'000};
    /// An idle connection to Stripe is reused only this long (0: never).
    std::chrono::milliseconds keep_alive{4'000};
    /// A charge or refund whose answer was lost is looked up by sending it again under its
    /// Idempotency-Key only while it is younger than this; older, only by reading (search, the
    /// refund list), never by a POST: Stripe forgets a key after 24 hours, and a request under
    /// a forgotten key is made again. Well under 24 h (at most 23 h).
    std::chrono::milliseconds replay_window{12 * 3'600'000};
};

/// Authorize.Net's JSON API (gateway_adapters/authorizenet/).
struct authorizenet_settings {
    /// Production; the sandbox is https://apitest.authorize.net/xml/v1/request.api.
    std::string endpoint = "https://api.authorize.net/xml/v1/request.api";
    secret login_id;         // the API Login ID: merchantAuthentication.name
    secret transaction_key;  // merchantAuthentication.transactionKey
    std::optional<std::filesystem::path> ca_file;
    std::chrono::milliseconds timeout{30'000};
    std::chrono::milliseconds keep_alive{4'000};  // as stripe_settings::keep_alive
};

/// The processor billpayd talks to. One alternative per adapter folder under gateway_adapters/;
/// the adapter is chosen by std::visit, so an alternative nobody handles does not compile.
using processor_settings = std::variant<simulator_settings, stripe_settings, authorizenet_settings>;

struct gateway_settings {
    processor_settings processor = simulator_settings{};
    /// Deadline for each processor call; past it a charge's outcome is unknown (202 pending).
    std::chrono::milliseconds timeout{30'000};
};

/// How long after a processor call began it can still be under way, at the processor or on its
/// way there: the call's deadline plus a margin (half the deadline, at least a second) for the
/// hand-offs around it and the processor's own lag in listing what it did. A request holds its
/// idempotency key this long (and again from the moment its payment is recorded), and nothing
/// may look up a charge or a refund, or conclude "never received", before this has passed:
/// `payments.recovery.after_ms` and `finance.refund_recovery_after_ms` may not be shorter.
inline std::chrono::milliseconds charge_window(const gateway_settings& gateway) {
    return gateway.timeout + std::max(std::chrono::milliseconds(1'000), gateway.timeout / 2);
}

struct tokenizer_settings {
    secret fingerprint_key;
};

struct recovery_settings {
    /// A payment still pending this long after it was created is looked up at the processor.
    std::chrono::milliseconds after{60'000};
    /// How often the worker looks, and how long it waits before asking again about one payment.
    std::chrono::milliseconds interval{10'000};
    /// After this many lookups without an answer the payment is flagged for finance.
    int max_attempts = 10;
};

struct payments_settings {
    std::vector<std::string> currencies{"USD"};
    std::int64_t min_amount = 1;
    std::int64_t max_amount = 10'000'000;
    /// The utility's time zone (IANA name): cards expire at the end of their month there.
    std::string time_zone = "UTC";
    /// A second payment of the same account and bill within this window is refused with 409
    /// possible_duplicate_payment unless the request says confirm_duplicate.
    std::int64_t duplicate_window_minutes = 1440;
    /// The only `metadata` keys a payment may carry (docs/api.md): named, short facts for the
    /// portal's own bookkeeping, never free text where personal data could ride along.
    std::vector<std::string> metadata_keys{"portal_session", "channel", "bill_period",
                                           "invoice_number"};
    /// How far ahead a payment may be scheduled (POST /v1/scheduled_payments): pay_on is today
    /// (in time_zone) or at most this many days later.
    int schedule_horizon_days = 90;
    /// How many times `billpayctl schedule run` tries a declined scheduled payment (or AutoPay
    /// charge) again, one day apart, before it gives up and tells the customer. Declines that
    /// another try cannot cure (an expired, lost or stolen card) are not tried again.
    int schedule_retries = 1;
    /// How many days before an AutoPay charge the customer is told (autopay_upcoming).
    int autopay_notice_days = 3;
    recovery_settings recovery;
};

struct spool_settings {
    std::filesystem::path directory;
};

struct webhook_settings {
    std::string url;  // https://…
    secret signing_secret;
    std::optional<std::filesystem::path> ca_file;
    std::chrono::milliseconds timeout{10'000};
    std::chrono::milliseconds keep_alive{4'000};  // as stripe_settings::keep_alive
};

/// How receipts travel; chosen by std::visit, as processors are.
using transport_settings = std::variant<spool_settings, webhook_settings>;

struct correspondence_settings {
    transport_settings transport = spool_settings{"var/spool/correspondence"};
    /// The longest a message added by another process waits for this one's dispatcher.
    std::chrono::milliseconds poll_interval{1'000};
    int concurrency = 16;
    std::chrono::milliseconds retry_base{1'000};
    std::chrono::milliseconds retry_max{300'000};
    std::chrono::milliseconds give_up_after{72LL * 3'600'000};
};

/// How long each kind of record is kept (docs/privacy.md); `billpayctl purge` applies it.
struct retention_settings {
    /// Payments and refunds are kept whole this long (the card networks' longest dispute
    /// window, 540 days, with room for finance's audit), then reduced: amounts, currency,
    /// status, dates, processor references and the account number stay; the customer's name
    /// and email, metadata, card expiry and fingerprint, and a refund's reason go. An account's
    /// corrected email goes once it and every payment of the account are older than this.
    int payment_days = 540;
    /// Finished idempotency keys (each holds the answer it replays, with the customer's name
    /// and email) are deleted this long after they were made.
    int idempotency_key_days = 7;
    /// Delivered (and dead-lettered) messages' bodies are deleted this long after they were
    /// queued: the message's type, dates and status stay.
    int receipt_body_days = 30;
    /// Rows changed per transaction: each batch commits, so a purge cut short resumes.
    int batch_size = 1'000;
};

/// The audit trail's signed checkpoints (docs/privacy.md, `billpayctl audit checkpoint`).
struct audit_settings {
    /// HMAC-SHA256 key of the daily checkpoints: kept outside the database (a credential file),
    /// so that whoever can write the database cannot sign a shortened chain. Empty: not given.
    secret checkpoint_key;
    /// `audit verify` fails when the newest checkpoint is older than this many days (rows after
    /// it could be cut unnoticed): the daily timer signs yesterday.
    int checkpoint_max_age_days = 2;
};

struct logging_settings {
    std::string level = "info";
};

/// Finance's tools (finance/, docs/finance.md).
struct finance_settings {
    /// A payment that succeeded this many days ago and has no settlement line is an exception.
    int settlement_days = 3;
    /// Refunds whose processor answer was lost are asked about again (as payments are, with
    /// payments.recovery's interval and attempts) once they are this old.
    std::chrono::milliseconds refund_recovery_after{60'000};
    /// General-ledger account codes for `billpayctl report gl` (docs/finance.md).
    struct gl_accounts {
        std::string clearing = "1150";    // card processor clearing: what the processor owes us
        std::string receivable = "1200";  // customer accounts receivable: what customers owe
        std::string fees = "6150";        // card processing fees
    } accounts;
};

struct settings {
    std::filesystem::path source;  // the file these were read from
    listen_settings listen;
    database_settings database;
    std::vector<client_settings> clients;
    gateway_settings gateway;
    tokenizer_settings tokenizer;
    payments_settings payments;
    correspondence_settings correspondence;
    finance_settings finance;
    retention_settings retention;
    audit_settings audit;
    logging_settings logging;
};

}  // namespace billpay::config
