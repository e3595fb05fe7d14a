#pragma once

#include <boost/asio/thread_pool.hpp>
#include <filesystem>

#include "correspondence/transport.hpp"

namespace billpay::correspondence {

/// Writes each message as `<id>.json` in a folder a correspondence system picks files up from:
/// written to a temporary name, fsync()ed, renamed into place and the folder fsync()ed, so a
/// reader never sees half a file and a crash never loses an acknowledged one. The file work runs
/// on a thread of its own, never on the event loop. Writing the same message again replaces the
/// file with identical bytes.
class spool_transport final : public transport {
  public:
    explicit spool_transport(std::filesystem::path directory);
    ~spool_transport() override;

    boost::asio::awaitable<delivery> deliver(const store::outbox_message& message) override;

    /// The blocking write itself (also used by tests).
    static delivery write_atomically(const std::filesystem::path& directory,
                                     const store::outbox_message& message);

  private:
    std::filesystem::path directory_;
    boost::asio::thread_pool files_{1};
};

}  // namespace billpay::correspondence
