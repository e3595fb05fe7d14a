#include "gateway_adapters/simulator/simulator_ledger.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "model/ids.hpp"

namespace billpay::gateway::simulator {
namespace {

namespace json = boost::json;

std::string text(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t number(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_int64() ? v->as_int64() : 0;
}

/// Applies one line to `contents`; lines it does not understand are skipped (a newer writer).
void apply_line(ledger_contents& contents, std::string_view line) {
    boost::system::error_code ec;
    auto doc = json::parse(line, ec);
    if (ec || !doc.is_object()) {
        return;
    }
    const auto& o = doc.as_object();
    const std::string event = text(o, "event");
    if (event == "token") {
        token_row t{text(o, "token"), text(o, "behaviour"), text(o, "brand"), text(o, "last4")};
        contents.tokens[t.token] = t;
    } else if (event == "token_deleted") {
        if (auto it = contents.tokens.find(text(o, "token")); it != contents.tokens.end()) {
            it->second.deleted = true;
        }
    } else if (event == "charge") {
        charge_row c{text(o, "key"),         text(o, "reference"), text(o, "token"),
                     number(o, "amount"),    text(o, "currency"),  text(o, "outcome"),
                     text(o, "decline_code")};
        if (contents.charges.emplace(c.key, c).second) {  // the first charge under a key stands
            contents.charge_key_by_reference[c.reference] = c.key;
        }
    } else if (event == "refund") {
        refund_row r{text(o, "key"), text(o, "reference"), text(o, "charge"), number(o, "amount"),
                     text(o, "kind")};
        if (contents.refunds.emplace(r.key, r).second) {
            auto key = contents.charge_key_by_reference.find(r.charge_reference);
            if (key != contents.charge_key_by_reference.end()) {
                contents.charges.at(key->second).amount_refunded += r.amount;
            }
        }
    }
}

/// Holds the file's exclusive lock for one write (other processes append to it too).
class file_lock {
  public:
    explicit file_lock(int fd) : fd_(fd) {
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) {
                throw std::system_error(errno, std::generic_category(), "flock");
            }
        }
    }
    ~file_lock() { ::flock(fd_, LOCK_UN); }
    file_lock(const file_lock&) = delete;
    file_lock& operator=(const file_lock&) = delete;

  private:
    int fd_;
};

}  // namespace

const charge_row* ledger_contents::charge_by_reference(const std::string& reference) const {
    auto key = charge_key_by_reference.find(reference);
    return key == charge_key_by_reference.end() ? nullptr : &charges.at(key->second);
}

ledger::ledger(std::filesystem::path file) : file_(std::move(file)) {
    std::error_code ec;
    if (file_.has_parent_path()) {
        std::filesystem::create_directories(file_.parent_path(), ec);
    }
    fd_ = ::open(file_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "gateway.simulator.ledger: cannot open " + file_.string());
    }
    catch_up();
    thread_ = std::thread([this] { thread_loop(); });
}

ledger::~ledger() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void ledger::thread_loop() {
    for (;;) {
        std::unique_ptr<job> next;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;
            }
            next = std::move(queue_.front());
            queue_.pop_front();
        }
        next->run();
    }
}

void ledger::catch_up() {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        throw std::system_error(errno, std::generic_category(), "fstat");
    }
    auto size = static_cast<std::uint64_t>(st.st_size);
    while (read_offset_ < size) {
        char buffer[64 * 1024];
        auto want = std::min<std::uint64_t>(sizeof buffer, size - read_offset_);
        auto got = ::pread(fd_, buffer, want, static_cast<off_t>(read_offset_));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(), "pread");
        }
        if (got == 0) {
            break;
        }
        read_offset_ += static_cast<std::uint64_t>(got);
        partial_.append(buffer, static_cast<std::size_t>(got));
        std::size_t start = 0;
        for (auto end = partial_.find('\n'); end != std::string::npos;
             end = partial_.find('\n', start)) {
            apply_line(contents_, std::string_view(partial_).substr(start, end - start));
            start = end + 1;
        }
        partial_.erase(0, start);
    }
}

void ledger::append(const std::string& line) {
    // Called under the file lock, after catch_up(): the line lands at the end we have read to.
    std::string out = line + "\n";
    std::size_t written = 0;
    while (written < out.size()) {
        auto n = ::write(fd_, out.data() + written, out.size() - written);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(), "write");
        }
        written += static_cast<std::size_t>(n);
    }
    // Read our own line back through catch_up, so the offsets stay one story.
    catch_up();
}

boost::asio::awaitable<void> ledger::save_token(const token_row& token) {
    co_await on_thread([this, &token] {
        file_lock lock(fd_);
        catch_up();
        append(json::serialize(json::object{{"event", "token"},
                                            {"token", token.token},
                                            {"behaviour", token.behaviour},
                                            {"brand", token.brand},
                                            {"last4", token.last4}}));
        return true;
    });
}

boost::asio::awaitable<std::optional<token_row>> ledger::find_token(const std::string& token) {
    co_return co_await on_thread([this, &token]() -> std::optional<token_row> {
        catch_up();
        auto it = contents_.tokens.find(token);
        if (it == contents_.tokens.end() || it->second.deleted) {
            return std::nullopt;
        }
        return it->second;
    });
}

boost::asio::awaitable<bool> ledger::delete_token(const std::string& token) {
    co_return co_await on_thread([this, &token] {
        file_lock lock(fd_);
        catch_up();
        auto it = contents_.tokens.find(token);
        if (it == contents_.tokens.end() || it->second.deleted) {
            return false;
        }
        append(json::serialize(json::object{{"event", "token_deleted"}, {"token", token}}));
        return true;
    });
}

boost::asio::awaitable<charge_row> ledger::record_charge(const charge_row& proposed) {
    co_return co_await on_thread([this, &proposed] {
        file_lock lock(fd_);
        catch_up();
        if (auto it = contents_.charges.find(proposed.key); it != contents_.charges.end()) {
            return it->second;
        }
        charge_row c = proposed;
        c.reference = model::new_id("sim_ch");
        append(json::serialize(json::object{{"event", "charge"},
                                            {"key", c.key},
                                            {"reference", c.reference},
                                            {"token", c.token},
                                            {"amount", c.amount},
                                            {"currency", c.currency},
                                            {"outcome", c.outcome},
                                            {"decline_code", c.decline_code}}));
        return contents_.charges.at(c.key);
    });
}

boost::asio::awaitable<std::optional<charge_row>> ledger::find_charge(const std::string& key) {
    co_return co_await on_thread([this, &key]() -> std::optional<charge_row> {
        catch_up();
        auto it = contents_.charges.find(key);
        if (it == contents_.charges.end()) {
            return std::nullopt;
        }
        return it->second;
    });
}

boost::asio::awaitable<std::optional<refund_row>> ledger::record_refund(
    const refund_row& proposed) {
    co_return co_await on_thread([this, &proposed]() -> std::optional<refund_row> {
        file_lock lock(fd_);
        catch_up();
        if (auto it = contents_.refunds.find(proposed.key); it != contents_.refunds.end()) {
            return it->second;  // asked again under the same key: the first answer
        }
        const charge_row* charge = contents_.charge_by_reference(proposed.charge_reference);
        if (charge == nullptr || charge->outcome != "approved" ||
            charge->amount_refunded + proposed.amount > charge->amount) {
            return std::nullopt;
        }
        refund_row r = proposed;
        r.reference = model::new_id(r.kind == "void" ? "sim_void" : "sim_re");
        append(json::serialize(json::object{{"event", "refund"},
                                            {"key", r.key},
                                            {"reference", r.reference},
                                            {"charge", r.charge_reference},
                                            {"amount", r.amount},
                                            {"kind", r.kind}}));
        return r;
    });
}

ledger_contents ledger::read(const std::filesystem::path& file) {
    ledger_contents contents;
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return contents;  // no file: nothing happened yet
    }
    std::string all;
    char buffer[64 * 1024];
    for (;;) {
        auto n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        all.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    std::size_t start = 0;
    for (auto end = all.find('\n'); end != std::string::npos; end = all.find('\n', start)) {
        apply_line(contents, std::string_view(all).substr(start, end - start));
        start = end + 1;
    }
    return contents;
}

}  // namespace billpay::gateway::simulator
