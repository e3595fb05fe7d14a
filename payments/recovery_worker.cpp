#include "payments/recovery_worker.hpp"

#include "correspondence/messages.hpp"
#include "logging/log.hpp"
#include "metrics/metrics.hpp"
#include "model/ids.hpp"
#include "model/time.hpp"
#include "payments/outcomes.hpp"

namespace billpay::payments {
namespace {
namespace asio = boost::asio;
constexpr int batch_size = 50;
}  // namespace

recovery_worker::recovery_worker(const config::settings& settings, store::payment_store& store,
                                 gateway::gateway& processor,
                                 const tokenizer::fingerprinter& fingerprints,
                                 const answer_renderer& answers)
    : settings_(settings),
      store_(store),
      processor_(processor),
      fingerprints_(fingerprints),
      answers_(answers) {}

asio::awaitable<int> recovery_worker::recover_due() {
    const auto& cfg = settings_.payments.recovery;
    // Never before the charge's window has closed, whatever the config says.
    const store::recovery_claim claim{std::max(cfg.after, config::charge_window(settings_.gateway)),
                                      batch_size, cfg.interval};
    auto due = co_await store_.claim_for_recovery(claim);
    if (!due) {
        logging::warn("payment recovery: could not claim pending payments",
                      {{"error", store::to_string(due.error())}});
        co_return 0;
    }
    int finished = 0;
    for (const auto& p : *due) {
        if (p.processor != processor_.name()) {
            // Only the processor that was asked can say what it did.
            auto flagged = co_await store_.flag_for_review(p.id);
            logging::error(
                "pending payment made through a processor billpayd is not configured for: "
                "flagged for finance to resolve, never asked of another processor",
                {{"payment_id", p.id},
                 {"processor", p.processor},
                 {"configured_processor", processor_.name()},
                 {"flagged", flagged.has_value()}});
            continue;
        }
        const gateway::charge_request charge = charge_request_for(p, fingerprints_);
        auto found = co_await processor_.lookup(
            charge, std::chrono::steady_clock::now() + settings_.gateway.timeout);
        model::payment_outcome outcome = outcome_of(found);
        if (outcome.status == model::payment_status::pending &&
            found.ask_again_after > std::chrono::milliseconds(0)) {
            // The processor's record cannot settle it yet, but will: asked again then, and
            // not flagged meanwhile (Authorize.Net, before the charge's settlement day closed).
            auto deferred = co_await store_.defer_recovery(p.id, found.ask_again_after);
            logging::info("pending payment not yet settled by the processor's record",
                          {{"payment_id", p.id},
                           {"ask_again_in_ms", found.ask_again_after.count()},
                           {"deferred", deferred.has_value()},
                           {"processor_message", found.message}});
            continue;
        }
        if (outcome.status == model::payment_status::pending) {
            logging::warn("pending payment still unknown at the processor",
                          {{"payment_id", p.id},
                           {"attempts", p.recovery_attempts},
                           {"processor_message", found.message}});
            if (p.recovery_attempts >= cfg.max_attempts) {
                auto flagged = co_await store_.flag_for_review(p.id);
                logging::error("payment outcome still unknown: flagged for finance to resolve",
                               {{"payment_id", p.id},
                                {"attempts", p.recovery_attempts},
                                {"flagged", flagged.has_value()}});
            }
            continue;
        }
        outcome.updated_at = model::rfc3339_utc(std::chrono::system_clock::now());
        const model::payment_record done = model::with_outcome(p, outcome);
        // The answer for a key whose request died before answering, and the receipt.
        const store::finish_request finish{p, outcome, answers_.render(done, model::new_id("req")),
                                           correspondence::render_payment_message(done)};
        auto record = co_await store_.finish(finish);
        if (!record) {
            logging::warn("could not record a recovered payment's outcome; asked again later",
                          {{"payment_id", p.id}, {"error", store::to_string(record.error())}});
            continue;
        }
        co_await discard_spare_token(processor_, *record,
                                     std::chrono::steady_clock::now() + settings_.gateway.timeout);
        metrics::process().payments.add(
            {std::string(model::to_string(record->status)), "recovery"});
        logging::info("pending payment finished by recovery",
                      {{"payment_id", p.id},
                       {"status", model::to_string(record->status)},
                       {"attempts", p.recovery_attempts}});
        ++finished;
    }
    co_return finished;
}

}  // namespace billpay::payments
