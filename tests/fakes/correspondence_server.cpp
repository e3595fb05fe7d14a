#include "tests/fakes/correspondence_server.hpp"

#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <ctime>
#include <thread>

namespace billpay::test {

std::string receiver_hmac_hex(const std::string& secret, const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    return out;
}

correspondence_server::correspondence_server(tls_files certificate, std::string signing_secret)
    : secret_(std::move(signing_secret)),
      server_(std::make_unique<fake_https_server>(
          std::move(certificate), [this](const fake_request& req) { return handle(req); })) {}

std::string correspondence_server::url() const {
    return "https://localhost:" + std::to_string(port()) + "/receipts";
}

fake_reply correspondence_server::handle(const fake_request& req) {
    fake_reply reply;
    reply.delay = std::chrono::milliseconds(delay_ms_.load());
    auto m = mode_.load();
    if (m == mode::hang) {
        reply.action = fake_reply::kind::hang;
        return reply;
    }
    if (!valid_request(req)) {
        ++bad_signatures_;
        reply.status = 400;
        reply.body = R"({"error":"signature or request rejected"})";
    } else if (m == mode::fail) {
        reply.status = 500;
        reply.body = R"({"error":"down"})";
    } else if (m == mode::reject) {
        reply.status = 400;
        reply.body = R"({"error":"unknown account"})";
    } else {
        std::lock_guard lock(mutex_);
        std::string id(req["Idempotency-Key"]);
        ++accepted_[id];
        auto [it, inserted] = bodies_.emplace(id, req.body());
        if (!inserted && it->second != req.body()) {
            conflicts_.insert(id);
        }
        reply.body = R"({"received":true})";
    }
    return reply;
}

bool correspondence_server::valid_request(const fake_request& req) const {
    namespace http = boost::beast::http;
    if (req.method() != http::verb::post || req[http::field::content_type] != "application/json" ||
        req["Idempotency-Key"].empty()) {
        return false;
    }
    std::string header(req["Billpay-Signature"]);
    auto v_at = header.find(",v1=");
    if (!header.starts_with("t=") || v_at == std::string::npos) {
        return false;
    }
    std::string t = header.substr(2, v_at - 2);
    std::string v1 = header.substr(v_at + 4);
    long long timestamp = 0;
    try {
        timestamp = std::stoll(t);
    } catch (...) {
        return false;
    }
    if (std::llabs(static_cast<long long>(std::time(nullptr)) - timestamp) > 300) {
        return false;  // stale: a replayed capture
    }
    if (receiver_hmac_hex(secret_, t + "." + req.body()) != v1) {
        return false;
    }
    // The id in the body is the Idempotency-Key.
    boost::system::error_code ec;
    auto body = boost::json::parse(req.body(), ec);
    return !ec && body.is_object() && body.as_object().contains("id") &&
           body.at("id").as_string() == std::string(req["Idempotency-Key"]);
}

std::map<std::string, int> correspondence_server::accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
}

std::map<std::string, std::string> correspondence_server::bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
}

std::set<std::string> correspondence_server::conflicting_ids() const {
    std::lock_guard lock(mutex_);
    return conflicts_;
}

bool correspondence_server::wait_for_distinct(std::size_t n,
                                              std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(mutex_);
            if (accepted_.size() >= n) {
                return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace billpay::test
