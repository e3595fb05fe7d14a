#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"
#include "payments/payment_service.hpp"
#include "store/payment_store.hpp"

namespace billpay::payments {

/// Finishes payments whose processor answer was lost (config `payments.recovery`). Every
/// `interval` it claims pending payments whose charge window has closed (at least `after` old,
/// and never one whose request still holds its idempotency key; SKIP LOCKED, so several
/// billpayd processes share the work), asks the processor what became of each charge by our
/// key, and finishes it with the answer its key replays and its receipt. It never charges, and
/// it concludes "failed" only from the processor's definitive word that it holds no charge
/// (see gateway::gateway::lookup). A lookup that settles nothing counts an attempt; after
/// `max_attempts` the payment is flagged `requires_review` for finance and left pending. A
/// payment made with a processor billpayd is not configured for is flagged at once: it is
/// never asked of another processor.
class recovery_worker {
  public:
    recovery_worker(const config::settings& settings, store::payment_store& store,
                    gateway::gateway& processor, const tokenizer::fingerprinter& fingerprints,
                    const answer_renderer& answers);

    /// One pass over the due payments; returns how many it finished.
    boost::asio::awaitable<int> recover_due();

  private:
    const config::settings& settings_;
    store::payment_store& store_;
    gateway::gateway& processor_;
    const tokenizer::fingerprinter& fingerprints_;
    const answer_renderer& answers_;
};

}  // namespace billpay::payments
