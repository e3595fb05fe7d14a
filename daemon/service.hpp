#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <memory>

#include "config/settings.hpp"
#include "correspondence/dispatcher.hpp"
#include "correspondence/transport.hpp"
#include "daemon/accounts_api.hpp"
#include "daemon/api_clients.hpp"
#include "daemon/autopay_api.hpp"
#include "daemon/bills_api.hpp"
#include "daemon/finance_api.hpp"
#include "daemon/http_server.hpp"
#include "daemon/idempotent_post.hpp"
#include "daemon/payments_api.hpp"
#include "daemon/router.hpp"
#include "daemon/scheduled_payments_api.hpp"
#include "daemon/systemd_notifier.hpp"
#include "daemon/tls.hpp"
#include "finance/refunds.hpp"
#include "finance/staff_reads.hpp"
#include "gateway_adapters/gateway.hpp"
#include "payments/payment_service.hpp"
#include "payments/recovery_worker.hpp"
#include "store/audit.hpp"
#include "store/autopay.hpp"
#include "store/bills.hpp"
#include "store/database.hpp"
#include "store/figures.hpp"
#include "store/idempotency_keys.hpp"
#include "store/migrations.hpp"
#include "store/outbox.hpp"
#include "store/payment_store.hpp"
#include "store/refunds.hpp"
#include "store/schedule_runs.hpp"
#include "store/scheduled_payments.hpp"
#include "store/settlements.hpp"
#include "tokenizer/card_checks.hpp"

namespace billpay::daemon {

/// billpayd itself: wires config, TLS, the store and the HTTPS server together and runs the
/// lifecycle. Start-up: listen, wait for PostgreSQL, refuse to run on an older schema, then
/// READY=1. SIGTERM/SIGINT: drain within listen.shutdown_grace_ms and exit 0. SIGHUP: reload the
/// TLS certificate and key for new connections (a broken pair is logged and the old one kept).
class service {
  public:
    explicit service(config::settings settings);
    ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    /// Runs until stopped; returns the process exit code.
    int run();

  private:
    struct readiness {
        std::atomic<bool> database_reachable{false};
        std::atomic<int> schema_version{-1};
        std::atomic<std::int64_t> last_probe_ok_ms{0};  // steady clock, milliseconds
    };

    void add_routes();
    boost::asio::awaitable<void> start_up();
    boost::asio::awaitable<bool> probe_database();
    boost::asio::awaitable<api_result> metrics(request_context& ctx);
    /// Every payments.recovery.interval: pending payments, then pending refunds.
    boost::asio::awaitable<void> recovery_loop();
    boost::asio::awaitable<void> probe_loop();
    boost::asio::awaitable<void> watchdog_loop(std::chrono::microseconds interval);
    boost::asio::awaitable<void> shut_down();
    void wait_for_signals();
    void reload_tls();
    [[nodiscard]] bool is_ready() const;

    boost::asio::io_context ioc_;
    config::settings settings_;
    systemd_notifier notifier_;
    std::shared_ptr<ticket_key_ring> tickets_;  // before tls_: its contexts seal with it
    tls_context_holder tls_;
    store::database database_;
    store::schema schema_;
    store::idempotency_keys keys_;
    store::postgres_payment_store payment_store_;
    store::refund_store refund_store_;
    store::settlement_records settlements_;
    store::audit_trail audit_;
    store::privacy_records privacy_records_;
    store::bill_records bill_records_;
    store::autopay_records autopay_records_;
    store::scheduled_payment_records scheduled_payment_records_;
    store::outbox outbox_;
    store::operating_figures figures_;
    store::schedule_run_records schedule_runs_;  // its figures, for /metrics
    api_clients clients_;
    tokenizer::fingerprinter fingerprints_;
    std::unique_ptr<gateway::gateway> processor_;
    payment_answers answers_;
    refund_answers refund_answers_;
    payments::payment_service payment_service_;
    payments::recovery_worker recovery_;
    finance::refunds refunds_;
    finance::staff_reads staff_reads_;
    payments::bills bills_;
    payments::autopay autopay_;
    payments::scheduled_payments scheduled_payments_;
    idempotent_posts posts_;
    payments_api payments_api_;
    finance_api finance_api_;
    accounts_api accounts_api_;
    bills_api bills_api_;
    autopay_api autopay_api_;
    scheduled_payments_api scheduled_payments_api_;
    std::unique_ptr<correspondence::transport> transport_;
    correspondence::dispatcher dispatcher_;
    router routes_;
    http_server server_;
    boost::asio::signal_set signals_;
    readiness readiness_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> exit_code_{0};
};

}  // namespace billpay::daemon
