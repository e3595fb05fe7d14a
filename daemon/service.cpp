#include "daemon/service.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <csignal>
#include <thread>
#include <vector>

#include "correspondence/make_transport.hpp"
#include "gateway_adapters/make_gateway.hpp"
#include "gateway_adapters/metered_gateway.hpp"
#include "logging/log.hpp"
#include "metrics/metrics.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// How often the database is probed for /readyz, and how old the last good probe may be.
constexpr std::chrono::milliseconds probe_interval{1'000};
constexpr std::chrono::milliseconds probe_freshness{3'000};

std::int64_t steady_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

store::database_options database_options_from(const config::database_settings& db) {
    return store::database_options{
        db.dsn,           db.pool_size,  db.connect_timeout, db.statement_timeout,
        db.queue_timeout, db.queue_limit};
}

correspondence::dispatcher_settings dispatcher_settings_from(const config::settings& s) {
    const auto& c = s.correspondence;
    correspondence::dispatcher_settings d;
    d.poll_interval = c.poll_interval;
    d.concurrency = c.concurrency;
    d.retry_base = c.retry_base;
    d.retry_max = c.retry_max;
    d.give_up_after = c.give_up_after;
    // A claim must outlast the slowest delivery (a webhook call ends at its timeout), or a
    // second process could send the message while the first still is.
    std::chrono::milliseconds slowest{10'000};
    if (const auto* hook = std::get_if<config::webhook_settings>(&c.transport)) {
        slowest = hook->timeout;
    }
    d.lease = 2 * slowest + std::chrono::seconds(1);
    return d;
}

/// "host:pid", for the attempts log: which process tried.
std::string instance_name() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid());
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(use_nothrow);
}

}  // namespace

service::service(config::settings settings)
    : settings_(std::move(settings)),
      tickets_(std::make_shared<ticket_key_ring>(settings_.listen.tls.ticket_key_rotation)),
      tls_(make_server_tls_context(settings_.listen.tls, tickets_)),
      database_(database_options_from(settings_.database)),
      schema_(database_),
      keys_(database_),
      payment_store_(database_),
      refund_store_(database_),
      settlements_(database_),
      audit_(database_),
      privacy_records_(database_),
      bill_records_(database_),
      autopay_records_(database_),
      scheduled_payment_records_(database_),
      outbox_(database_),
      figures_(database_),
      schedule_runs_(database_),
      clients_(settings_.clients),
      fingerprints_(settings_.tokenizer.fingerprint_key.reveal()),
      processor_(gateway::metered(
          gateway::make_gateway(settings_.gateway.processor, ioc_.get_executor()))),
      payment_service_(settings_, payment_store_, *processor_, fingerprints_, answers_),
      recovery_(settings_, payment_store_, *processor_, fingerprints_, answers_),
      refunds_(refund_store_, *processor_, settings_.gateway, &refund_answers_),
      staff_reads_(payment_store_, refund_store_, settlements_, audit_),
      bills_(settings_, bill_records_),
      autopay_(autopay_records_, payment_store_, *processor_),
      scheduled_payments_(settings_, scheduled_payment_records_, payment_store_, *processor_),
      posts_(clients_, keys_, config::charge_window(settings_.gateway)),
      payments_api_(settings_, clients_, posts_, payment_service_, staff_reads_, fingerprints_,
                    answers_),
      finance_api_(settings_, clients_, posts_, refunds_, refund_answers_, staff_reads_),
      accounts_api_(clients_, privacy_records_),
      bills_api_(clients_, bills_),
      autopay_api_(clients_, autopay_),
      scheduled_payments_api_(settings_, clients_, posts_, scheduled_payments_),
      transport_(
          correspondence::make_transport(settings_.correspondence.transport, ioc_.get_executor())),
      dispatcher_(ioc_, dispatcher_settings_from(settings_), outbox_, *transport_, instance_name()),
      server_(ioc_, settings_.listen, tls_, routes_),
      signals_(ioc_, SIGTERM, SIGINT, SIGHUP) {
    add_routes();
    payments_api_.add_routes(routes_);
    finance_api_.add_routes(routes_);
    bills_api_.add_routes(routes_);
    autopay_api_.add_routes(routes_);
    scheduled_payments_api_.add_routes(routes_);
    accounts_api_.add_routes(routes_);
}

service::~service() = default;

void service::add_routes() {
    routes_.add(http::verb::get, "/metrics",
                [this](request_context& ctx, request& req) -> asio::awaitable<api_result> {
                    auto client = clients_.caller(req, ctx, {config::client_role::ops});
                    if (!client) {
                        co_return client.error();
                    }
                    co_return co_await metrics(ctx);
                });
    routes_.add(
        http::verb::get, "/healthz",
        [](request_context&, request&) -> asio::awaitable<api_result> {
            co_return json_response(http::status::ok, {{"status", "ok"}});
        },
        router::access::anyone);
    routes_.add(
        http::verb::get, "/readyz",
        [this](request_context&, request&) -> asio::awaitable<api_result> {
            bool reachable =
                readiness_.database_reachable.load() &&
                steady_now_ms() - readiness_.last_probe_ok_ms.load() <= probe_freshness.count();
            int version = readiness_.schema_version.load();
            int required = store::required_schema_version();
            boost::json::object body;
            body["database"] = reachable ? "ok" : "unreachable";
            body["schema_version"] = version;
            body["required_schema_version"] = required;
            bool ready = reachable && version >= required && !stopping_.load();
            body["status"] = ready ? "ready" : "not_ready";
            co_return json_response(ready ? http::status::ok : http::status::service_unavailable,
                                    body);
        },
        router::access::anyone);
    // Every other route is for clients: their headers are checked before a body is read.
    routes_.authenticate_with(
        [this](const request& req, const request_context& ctx) -> std::optional<api_error> {
            auto client = clients_.authenticate(req, ctx);
            if (!client) {
                return client.error();
            }
            return std::nullopt;
        });
}

asio::awaitable<api_result> service::metrics(request_context& ctx) {
    // Prometheus text exposition format, version 0.0.4: what the process counted and timed,
    // then gauges read now. docs/operations.md lists every series and what to do about it.
    std::string text = metrics::process().render();
    auto gauge = [&text](std::string_view name, std::string_view help, double value) {
        metrics::render_gauge(text, name, help, value);
    };
    gauge("billpay_up", "1 while billpayd serves.", 1);
    gauge("billpay_ready", "1 when the database answers and the schema is current.",
          readiness_.database_reachable.load() ? 1 : 0);
    gauge("billpay_open_connections", "Client connections open now.",
          static_cast<double>(server_.open_connections()));
    gauge("billpay_store_connections_in_use", "The store's database connections running a job.",
          database_.connections_in_use());
    gauge("billpay_store_connections", "The store's database connections (database.pool_size).",
          database_.options().pool_size);
    if (auto expiry = certificate_expiry(*tls_.current())) {
        gauge("billpay_tls_certificate_expiry_timestamp_seconds",
              "When the server certificate in use expires (Unix time).",
              static_cast<double>(*expiry));
    }
    if (auto f = co_await figures_.read()) {
        gauge("billpay_payments_pending", "Payments whose processor answer is not known yet.",
              static_cast<double>(f->payments_pending));
        gauge("billpay_payments_pending_oldest_age_seconds",
              "Age of the oldest payment still pending (0: none).",
              f->oldest_pending_payment_age_seconds);
        gauge("billpay_payments_requiring_review",
              "Pending payments recovery gave up asking about: finance resolves them.",
              static_cast<double>(f->payments_requiring_review));
        gauge("billpay_refunds_pending", "Refunds whose processor answer is not known yet.",
              static_cast<double>(f->refunds_pending));
        gauge("billpay_refunds_requiring_review",
              "Pending refunds recovery gave up asking about: finance resolves them.",
              static_cast<double>(f->refunds_requiring_review));
        gauge("billpay_outbox_backlog", "Correspondence messages not delivered yet.",
              static_cast<double>(f->outbox.backlog));
        gauge("billpay_outbox_oldest_pending_age_seconds",
              "Age of the oldest undelivered correspondence message.",
              f->outbox.oldest_pending_age_seconds);
        gauge("billpay_outbox_dead", "Dead-lettered correspondence messages.",
              static_cast<double>(f->outbox.dead));
    } else {
        logging::warn("metrics: database figures unavailable",
                      {{"request_id", ctx.request_id}, {"error", store::to_string(f.error())}});
    }
    if (auto s = co_await schedule_runs_.figures(settings_.payments.time_zone)) {
        gauge("billpay_scheduled_payments_due",
              "Scheduled payments and AutoPay charges whose day has come, not yet claimed by a "
              "run.",
              static_cast<double>(s->due_now));
        gauge("billpay_scheduled_payments_running",
              "Scheduled payments a run holds, or whose charge recovery is still learning.",
              static_cast<double>(s->running));
        gauge("billpay_schedule_run_overdue",
              "1 when the utility's day (payments.time_zone) has reached 09:00 without a finished "
              "billpayctl schedule run for it.",
              s->run_overdue ? 1 : 0);
        gauge("billpay_schedule_last_run_finished_timestamp_seconds",
              "When the latest schedule run finished (Unix time; 0: never).", s->last_finished_at);
        gauge("billpay_schedule_last_run_due", "Items the latest finished schedule run claimed.",
              static_cast<double>(s->last.due));
        gauge("billpay_schedule_last_run_charged",
              "Items the latest finished schedule run charged (paid).",
              static_cast<double>(s->last.charged));
        gauge("billpay_schedule_last_run_failed",
              "Items the latest finished schedule run gave up on (the customer was told).",
              static_cast<double>(s->last.failed));
        gauge("billpay_schedule_last_run_pending",
              "Items the latest finished schedule run left pending at the processor.",
              static_cast<double>(s->last.pending));
        gauge("billpay_schedule_last_run_retrying",
              "Declined items the latest finished schedule run will try again.",
              static_cast<double>(s->last.retrying));
    } else {
        logging::warn("metrics: schedule figures unavailable",
                      {{"request_id", ctx.request_id}, {"error", store::to_string(s.error())}});
    }
    response res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(text);
    res.prepare_payload();
    co_return res;
}

asio::awaitable<bool> service::probe_database() {
    auto version = co_await schema_.current_version();
    if (version) {
        readiness_.schema_version = *version;
        readiness_.database_reachable = true;
        readiness_.last_probe_ok_ms = steady_now_ms();
        co_return true;
    }
    if (readiness_.database_reachable.exchange(false)) {
        logging::error("database unreachable", {{"error", store::to_string(version.error())}});
        notifier_.status("database unreachable");
    }
    co_return false;
}

asio::awaitable<void> service::recovery_loop() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto& cfg = settings_.payments.recovery;
    while (!stopping_) {
        // Each pass reports its failures as values; an exception is a defect, logged, and the
        // worker goes on (left alone, it would end billpayd through the event loop).
        try {
            co_await recovery_.recover_due();
        } catch (const std::exception& e) {
            logging::error("payment recovery pass failed", {{"error", e.what()}});
        }
        try {
            co_await refunds_.retry_pending(settings_.finance.refund_recovery_after, cfg.interval,
                                            cfg.max_attempts);
        } catch (const std::exception& e) {
            logging::error("refund recovery pass failed", {{"error", e.what()}});
        }
        timer.expires_after(cfg.interval);
        co_await timer.async_wait(use_nothrow);
    }
}

asio::awaitable<void> service::start_up() {
    notifier_.status("waiting for the database");
    bool told = false;
    while (!stopping_ && !co_await probe_database()) {
        if (!told) {
            logging::warn("waiting for the database");
            told = true;
        }
        co_await sleep_for(probe_interval);
    }
    if (stopping_) {
        co_return;
    }
    int version = readiness_.schema_version.load();
    int required = store::required_schema_version();
    if (version < required) {
        logging::error(
            "the database schema is older than this billpayd needs; run "
            "`billpayctl --config FILE migrate` first",
            {{"schema_version", version}, {"required_schema_version", required}});
        exit_code_ = 1;
        stopping_ = true;
        ioc_.stop();
        co_return;
    }
    if (version > required) {
        logging::warn(
            "the database schema is newer than this billpayd; running on it as "
            "migrations only ever add",
            {{"schema_version", version}, {"required_schema_version", required}});
    }
    logging::info("ready", {{"schema_version", version}, {"processor", processor_->name()}});
    notifier_.ready();
    asio::co_spawn(ioc_, recovery_loop(), asio::detached);
    dispatcher_.start();
    co_await probe_loop();
}

asio::awaitable<void> service::probe_loop() {
    while (!stopping_) {
        co_await sleep_for(probe_interval);
        bool was_reachable = readiness_.database_reachable.load();
        if (co_await probe_database() && !was_reachable) {
            logging::info("database reachable again");
            notifier_.status("serving");
        }
    }
}

asio::awaitable<void> service::watchdog_loop(std::chrono::microseconds interval) {
    // Runs on the event loop, so a blocked loop stops the pings and systemd restarts us.
    while (!stopping_) {
        notifier_.watchdog();
        co_await sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(interval));
    }
}

asio::awaitable<void> service::shut_down() {
    logging::info(
        "stopping: draining connections",
        {{"open_connections", static_cast<std::int64_t>(server_.open_connections())},
         {"grace_ms", static_cast<std::int64_t>(settings_.listen.shutdown_grace.count())}});
    notifier_.stopping();
    server_.begin_drain();
    dispatcher_.stop();
    auto deadline = std::chrono::steady_clock::now() + settings_.listen.shutdown_grace;
    while (server_.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
        co_await sleep_for(std::chrono::milliseconds(20));
    }
    if (auto left = server_.open_connections(); left > 0) {
        logging::warn("grace period over: closing connections still open",
                      {{"open_connections", static_cast<std::int64_t>(left)}});
        server_.close_all();
        co_await sleep_for(std::chrono::milliseconds(50));
    }
    logging::info("stopped");
    ioc_.stop();
}

void service::reload_tls() {
    notifier_.reloading();
    try {
        tls_.replace(make_server_tls_context(settings_.listen.tls, tickets_));
        logging::info("TLS certificate reloaded",
                      {{"certificate", settings_.listen.tls.certificate.string()}});
    } catch (const std::exception& e) {
        logging::error("TLS reload failed; keeping the previous certificate",
                       {{"error", e.what()}});
    }
    notifier_.ready();
}

void service::wait_for_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (ec) {
            return;
        }
        if (signal == SIGHUP) {
            reload_tls();
            wait_for_signals();
            return;
        }
        if (!stopping_.exchange(true)) {
            asio::co_spawn(ioc_, shut_down(), asio::detached);
        }
    });
}

int service::run() {
    auto endpoint = server_.listen();
    logging::info("listening", {{"address", endpoint.address().to_string()},
                                {"port", endpoint.port()},
                                {"threads", settings_.listen.threads}});
    server_.start();
    wait_for_signals();
    asio::co_spawn(ioc_, start_up(), asio::detached);
    if (auto interval = systemd_notifier::watchdog_interval()) {
        asio::co_spawn(ioc_, watchdog_loop(*interval), asio::detached);
    }

    std::vector<std::thread> extra;
    for (int i = 1; i < settings_.listen.threads; ++i) {
        extra.emplace_back([this] { ioc_.run(); });
    }
    ioc_.run();
    for (auto& t : extra) {
        t.join();
    }
    return exit_code_.load();
}

}  // namespace billpay::daemon
