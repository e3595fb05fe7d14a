#include "ctl/schedule_commands.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <iostream>

#include "ctl/command_session.hpp"
#include "gateway_adapters/make_gateway.hpp"
#include "model/ids.hpp"
#include "model/time.hpp"
#include "payments/payment_service.hpp"
#include "payments/schedule_run.hpp"
#include "store/idempotency_keys.hpp"
#include "store/payment_store.hpp"
#include "store/schedule_runs.hpp"
#include "tokenizer/card_checks.hpp"

namespace billpay::ctl {
namespace {

/// What a scheduled charge's key keeps as its answer. Only the schedule run asks under these
/// keys, and it reads the payment the key holds rather than this answer: the status line as the
/// API would give it, and the payment's id and status.
class schedule_answers final : public payments::answer_renderer {
  public:
    [[nodiscard]] model::stored_response render(const model::payment_record& payment,
                                                const std::string&) const override {
        using model::payment_status;
        const int status = payment.status == payment_status::pending    ? 202
                           : payment.status == payment_status::declined ? 402
                           : payment.status == payment_status::failed   ? 402
                                                                        : 201;
        return {status, boost::json::serialize(boost::json::object{
                            {"id", payment.id}, {"status", model::to_string(payment.status)}})};
    }
};

}  // namespace

int schedule_run(const config::settings& settings, const schedule_run_options& options) {
    if (!options.date.empty() && !model::valid_date(options.date)) {
        std::cerr << "billpayctl schedule run: --date must be a day, YYYY-MM-DD\n";
        return 2;
    }
    if (!has_processor_credentials(settings, "schedule run", "nothing was charged")) {
        return 2;
    }
    if (settings.tokenizer.fingerprint_key.empty()) {
        std::cerr << "billpayctl schedule run: the fingerprint key is not available here "
                     "(tokenizer.fingerprint_key_file): load it into this command's credentials, "
                     "as billpayd-schedule.service does; nothing was charged\n";
        return 2;
    }
    // One connection per charge in flight, and one for the claims.
    command_session session(settings, settings.database.statement_timeout, options.parallel + 1);
    store::schedule_run_records runs(session.database());
    auto day = options.date;
    if (day.empty()) {
        auto today = session.wait(runs.local_day(settings.payments.time_zone, ""));
        if (!today) {
            std::cerr << "billpayctl schedule run: the database is unavailable; nothing was "
                         "charged\n";
            return 1;
        }
        day = *today;
    }
    store::idempotency_keys keys(session.database());
    store::postgres_payment_store payments(session.database());
    auto processor =
        gateway::make_gateway(settings.gateway.processor, session.io_context().get_executor());
    const tokenizer::fingerprinter fingerprints(settings.tokenizer.fingerprint_key.reveal());
    const schedule_answers answers;
    payments::payment_service service(settings, payments, *processor, fingerprints, answers);
    payments::schedule_run run(settings, runs, keys, payments, service);
    const payments::run_options chosen{day,
                                       model::new_id("run"),
                                       operator_source(),
                                       options.parallel,
                                       options.batch,
                                       std::chrono::seconds(options.lease_seconds)};
    auto report = session.wait(run.run(chosen));
    std::printf(
        "schedule run %s for %s: %lld due, %lld charged, %lld failed, %lld to retry, %lld pending "
        "at the processor, %lld canceled, %lld left for a later run; %lld AutoPay charges "
        "planned, %lld notices queued\n",
        chosen.run_id.c_str(), day.c_str(), static_cast<long long>(report.counts.due),
        static_cast<long long>(report.counts.charged), static_cast<long long>(report.counts.failed),
        static_cast<long long>(report.counts.retrying),
        static_cast<long long>(report.counts.pending), static_cast<long long>(report.canceled),
        static_cast<long long>(report.released), static_cast<long long>(report.planned_autopay),
        static_cast<long long>(report.notices));
    if (report.store_failed) {
        std::cerr << "billpayctl schedule run: the database failed during the run; what was not "
                     "charged is charged by the next run (each charge at most once)\n";
        return 1;
    }
    return 0;
}

}  // namespace billpay::ctl
