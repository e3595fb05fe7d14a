#include "store/database.hpp"

#include <openssl/crypto.h>

#include <pqxx/pqxx>
#include <utility>

#include "logging/log.hpp"
#include "metrics/metrics.hpp"

namespace billpay::store {

std::string_view to_string(error e) noexcept {
    switch (e) {
        case error::unavailable:
            return "unavailable";
        case error::busy:
            return "busy";
        case error::not_found:
            return "not_found";
        case error::conflict:
            return "conflict";
        case error::invalid_argument:
            return "invalid_argument";
        case error::lease_lost:
            return "lease_lost";
        case error::internal:
            return "internal";
    }
    return "internal";
}

const char* failure::what() const noexcept {
    switch (error_) {
        case error::unavailable:
            return "store: the database is unavailable";
        case error::busy:
            return "store: busy (queue wait exceeded)";
        case error::not_found:
            return "store: not found";
        case error::conflict:
            return "store: conflict";
        case error::invalid_argument:
            return "store: invalid argument";
        case error::lease_lost:
            return "store: the idempotency key's lease was lost";
        case error::internal:
            return "store: internal error";
    }
    return "store: internal error";
}

void throw_exception_from_error(const error& e, const boost::source_location&) { throw failure(e); }

error error_of(std::exception_ptr e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const failure& f) {
        return f.code();
    } catch (const unavailable&) {
        return error::unavailable;
    } catch (const pqxx::broken_connection&) {
        return error::unavailable;
    } catch (const pqxx::integrity_constraint_violation&) {
        return error::conflict;  // unique, check (the status machine's trigger), foreign key
    } catch (const pqxx::transaction_rollback&) {
        return error::conflict;  // serialization failure, deadlock
    } catch (const pqxx::data_exception&) {
        return error::invalid_argument;  // a value PostgreSQL cannot read (a malformed time)
    } catch (const pqxx::in_doubt_error&) {
        return error::unavailable;
    } catch (const pqxx::sql_error& x) {
        const std::string state = x.sqlstate();
        // 57014 statement_timeout (PostgreSQL too slow to answer now), 57P0x shutting down,
        // 08 connection exceptions, 53 insufficient resources: all "not now", never a bug.
        if (state == "57014" || state.starts_with("57P") || state.starts_with("08") ||
            state.starts_with("53")) {
            return error::unavailable;
        }
        logging::error("store: unexpected SQL error", {{"sqlstate", state}, {"error", x.what()}});
        return error::internal;
    } catch (const std::exception& x) {
        logging::error("store: unexpected failure", {{"error", x.what()}});
        return error::internal;
    } catch (...) {
        logging::error("store: unexpected failure of unknown type");
        return error::internal;
    }
}

namespace {

/// Set by a connection's notice_watch on the thread that runs the connection's job.
thread_local bool commit_not_confirmed = false;

/// What PostgreSQL says besides results. One warning matters: a commit whose wait for the
/// synchronous standby was cancelled (a cancel request, pg_cancel_backend) or cut short by the
/// server's shutdown "has already committed locally, but might not have been replicated to the
/// standby" — the durability synchronous_commit promised is not there. The message is matched
/// in English: the server's lc_messages must be C or English (docs/operations.md). Other
/// notices go to the debug log, their first line only.
class notice_watch final : public pqxx::errorhandler {
  public:
    explicit notice_watch(pqxx::connection_base& conn) : pqxx::errorhandler(conn) {}

    bool operator()(const char message[]) noexcept override {
        const std::string_view text(message);
        if (text.find("wait for synchronous replication") != std::string_view::npos) {
            commit_not_confirmed = true;
        } else {
            logging::debug("database notice", {{"notice", text.substr(0, text.find('\n'))}});
        }
        return false;
    }
};

}  // namespace

/// One worker's connection, with its notice watch (unregistered first, as it goes).
struct database::session {
    std::unique_ptr<pqxx::connection> conn;
    std::unique_ptr<notice_watch> notices;

    /// A connection for `dsn`. libpqxx 6.4 takes a std::string: the copy made for it is wiped
    /// once the connection is open (libpq and libpqxx keep their own, for reconnecting, as
    /// long as the connection lives: docs/operations.md says why a DSN should carry no
    /// password).
    explicit session(const config::secret& dsn) {
        std::string text(dsn.reveal());
        struct wipe_after {
            std::string& text;
            ~wipe_after() { OPENSSL_cleanse(text.data(), text.size()); }
        } wipe{text};
        conn = std::make_unique<pqxx::connection>(text);
        notices = std::make_unique<notice_watch>(*conn);
    }
    ~session() { notices.reset(); }
    session(const session&) = delete;
    session& operator=(const session&) = delete;
};

std::exception_ptr database::unconfirmed_commit() {
    if (!std::exchange(commit_not_confirmed, false)) {
        return nullptr;
    }
    logging::error(
        "a commit was not confirmed by the synchronous standby: its outcome is unknown here (it "
        "stands on this server alone); the connection is dropped");
    return std::make_exception_ptr(
        unavailable("a commit was not confirmed by the synchronous standby"));
}

void database::forget_unconfirmed_commit() noexcept { commit_not_confirmed = false; }

config::secret connection_string(std::string_view dsn, std::chrono::milliseconds connect_timeout,
                                 std::chrono::milliseconds statement_timeout) {
    // libpq counts whole seconds and treats 1 as 2; round up so a short timeout stays short.
    auto seconds =
        std::max<long long>(2, std::chrono::ceil<std::chrono::seconds>(connect_timeout).count());
    bool is_uri = dsn.starts_with("postgresql://") || dsn.starts_with("postgres://");
    // Room for everything added below, so that the string never grows: a reallocation would
    // free a copy of the DSN (and its password) unwiped.
    std::string out;
    out.reserve(dsn.size() + 256);
    out.append(dsn);
    auto add = [&](std::string_view key, const std::string& value) {
        if (out.find(key) != std::string::npos) {
            return;
        }
        if (is_uri) {
            out += (out.find('?') == std::string::npos ? "?" : "&");
            out.append(key).append("=").append(value);
        } else {
            out += (out.empty() ? "" : " ");
            out.append(key).append("=").append(value);
        }
    };
    add("connect_timeout", std::to_string(seconds));
    add("application_name", "billpayd");
    // Server-side options: a space-separated list, percent-encoded in a URI, quoted otherwise.
    auto ms = std::to_string(statement_timeout.count());
    add("options", is_uri ? "-c%20statement_timeout%3D" + ms : "'-c statement_timeout=" + ms + "'");
    return config::secret(std::move(out));
}

database::database(database_options options) : options_(std::move(options)) {
    options_.dsn = connection_string(options_.dsn.reveal(), options_.connect_timeout,
                                     options_.statement_timeout);
    threads_.reserve(static_cast<std::size_t>(options_.pool_size));
    for (int i = 0; i < options_.pool_size; ++i) {
        threads_.emplace_back([this] { worker_loop(); });
    }
}

database::~database() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
}

void database::submit(std::unique_ptr<job> j) {
    {
        std::unique_lock lock(mutex_);
        if (std::cmp_greater_equal(queue_.size(), options_.queue_limit) && !stopping_) {
            // Past the bound a caller is told at once that the store is busy (503 store_busy
            // with Retry-After) rather than wait behind a queue it cannot get through in time.
            lock.unlock();
            j->execute(nullptr, std::make_exception_ptr(failure(error::busy)));
            return;
        }
        queue_.push_back(std::move(j));
    }
    wake_.notify_one();
}

std::exception_ptr database::translate_current_exception(bool& healthy) {
    try {
        throw;
    } catch (const pqxx::broken_connection&) {
        healthy = false;
        return std::make_exception_ptr(unavailable("the database connection was lost"));
    } catch (...) {
        return std::current_exception();
    }
}

void database::worker_loop() {
    std::unique_ptr<session> conn;
    for (;;) {
        std::unique_ptr<job> next;
        bool stopping = false;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;  // stopping, and nothing left to answer
            }
            next = std::move(queue_.front());
            queue_.pop_front();
            stopping = stopping_;
        }
        if (stopping) {
            // Answer what is still queued without touching the database: the process is ending.
            next->execute(nullptr, std::make_exception_ptr(unavailable("the store is stopping")));
            continue;
        }
        if (std::chrono::steady_clock::now() - next->enqueued_at > options_.queue_timeout) {
            // Its caller has waited long enough: tell it the store is busy rather than run a job
            // whose request may have given up (or whose lease may be running out).
            next->execute(nullptr, std::make_exception_ptr(failure(error::busy)));
            continue;
        }
        metrics::process().store_queue_wait.observe(
            {}, std::chrono::duration<double>(std::chrono::steady_clock::now() - next->enqueued_at)
                    .count());
        in_use_.fetch_add(1, std::memory_order_relaxed);
        std::exception_ptr failure;
        if (conn && !conn->conn->is_open()) {
            conn.reset();
        }
        if (!conn) {
            try {
                conn = std::make_unique<session>(options_.dsn);
            } catch (const std::exception& e) {
                // libpq's message names host and port, never the password.
                failure = std::make_exception_ptr(unavailable(e.what()));
            }
        }
        bool healthy = next->execute(failure ? nullptr : conn->conn.get(), failure);
        in_use_.fetch_sub(1, std::memory_order_relaxed);
        // Drop a broken connection so that the next job opens a fresh one.
        if (conn && (!healthy || !conn->conn->is_open())) {
            conn.reset();
        }
    }
}

}  // namespace billpay::store
