#pragma once

#include <functional>
#include <mutex>
#include <utility>

namespace billpay::store {

/// "A message was added to the outbox", inside one process: the repositories that add messages
/// raise it after their commit, and this process's dispatcher, connected to it, wakes at once.
/// Other processes find the message at their next poll. It replaces a per-payment NOTIFY, which
/// PostgreSQL serialises across the whole cluster at commit.
class outbox_signal {
  public:
    /// Calls `wake` on every raise() until disconnect(); `wake` must not block.
    void connect(std::function<void()> wake) {
        std::lock_guard lock(mutex_);
        wake_ = std::move(wake);
    }
    /// After it returns, `wake` is not called any more.
    void disconnect() {
        std::lock_guard lock(mutex_);
        wake_ = nullptr;
    }
    void raise() const {
        std::lock_guard lock(mutex_);
        if (wake_) {
            wake_();
        }
    }

  private:
    mutable std::mutex mutex_;
    std::function<void()> wake_;
};

}  // namespace billpay::store
