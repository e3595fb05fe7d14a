#pragma once

#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <vector>

#include "correspondence/transport.hpp"

namespace billpay::correspondence {

/// Writes each message as `<id>.json` in a folder a correspondence system picks files up from:
/// written to a temporary name, fsync()ed and renamed into place, and the folder fsync()ed once
/// per batch before any of them counts as delivered, so a reader never sees half a file and a
/// crash never loses an acknowledged one. The file work runs
/// on a thread of its own, never on the event loop. Writing the same message again replaces the
/// file with identical bytes.
class spool_transport final : public transport {
  public:
    explicit spool_transport(std::filesystem::path directory);
    ~spool_transport() override;

    boost::asio::awaitable<std::vector<delivery>> deliver(
        const std::vector<store::outbox_message>& batch) override;

    /// The blocking writes themselves (also used by tests).
    static std::vector<delivery> write_atomically(const std::filesystem::path& directory,
                                                  const std::vector<store::outbox_message>& batch);

  private:
    std::filesystem::path directory_;
    boost::asio::thread_pool files_{1};
};

}  // namespace billpay::correspondence
