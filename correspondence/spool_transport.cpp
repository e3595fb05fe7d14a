#include "correspondence/spool_transport.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

namespace billpay::correspondence {
namespace {

namespace asio = boost::asio;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

/// Writes one message under its temporary name, fsync()s it and renames it into place; the
/// folder is synced by the caller.
delivery write_one(const std::filesystem::path& directory, const store::outbox_message& message) {
    using result = delivery::result;
    auto final_path = directory / (message.id + ".json");
    auto temp_path = directory / ("." + message.id + ".json.tmp");
    int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return {result::retry, std::nullopt, errno_text("open")};
    }
    const char* data = message.body.data();
    std::size_t left = message.body.size();
    while (left > 0) {
        auto n = ::write(fd, data, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            auto error = errno_text("write");
            ::close(fd);
            ::unlink(temp_path.c_str());
            return {result::retry, std::nullopt, error};
        }
        data += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        auto error = errno_text("fsync");
        ::close(fd);
        ::unlink(temp_path.c_str());
        return {result::retry, std::nullopt, error};
    }
    ::close(fd);
    if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
        auto error = errno_text("rename");
        ::unlink(temp_path.c_str());
        return {result::retry, std::nullopt, error};
    }
    return {result::delivered, std::nullopt, ""};
}

}  // namespace

spool_transport::spool_transport(std::filesystem::path directory)
    : directory_(std::move(directory)) {
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
}

spool_transport::~spool_transport() { files_.join(); }

std::vector<delivery> spool_transport::write_atomically(
    const std::filesystem::path& directory, const std::vector<store::outbox_message>& batch) {
    std::vector<delivery> out;
    out.reserve(batch.size());
    bool renamed = false;
    for (const auto& message : batch) {
        out.push_back(write_one(directory, message));
        renamed = renamed || out.back().outcome == delivery::result::delivered;
    }
    if (!renamed) {
        return out;
    }
    // The renames survive a crash only once the folder is synced: one fsync for the batch.
    int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::string failed;
    if (dir < 0) {
        failed = errno_text("open folder");
    } else {
        if (::fsync(dir) != 0) {
            failed = errno_text("fsync folder");
        }
        ::close(dir);
    }
    if (!failed.empty()) {
        for (auto& d : out) {
            if (d.outcome == delivery::result::delivered) {
                d = {delivery::result::retry, std::nullopt, failed};  // written again next time
            }
        }
    }
    return out;
}

asio::awaitable<std::vector<delivery>> spool_transport::deliver(
    const std::vector<store::outbox_message>& batch) {
    auto home = co_await asio::this_coro::executor;
    co_await asio::post(files_, asio::use_awaitable);  // off the event loop for the disk work
    auto outcome = write_atomically(directory_, batch);
    co_await asio::post(home, asio::use_awaitable);
    co_return outcome;
}

}  // namespace billpay::correspondence
