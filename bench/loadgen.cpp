// billpay-loadgen: drives POST /v1/payments over HTTPS keep-alive connections and reports
// payments per second and latency percentiles. Each request has its own Idempotency-Key and
// bill, and carries real card JSON (a published test card), as the portal would send it.
//
//   billpay-loadgen --port 8443 --api-key-file var/secrets/portal-api-key
//                   --connections 64 --seconds 20 [--card NUMBER] [--threads 1]
#include <openssl/rand.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using clock_type = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct options {
    unsigned short port = 8443;
    std::string api_key;
    int connections = 64;
    int seconds = 20;
    int threads = 1;
    std::string card = "4242424242424242";
    std::string run_id;
};

struct results {
    std::mutex mutex;
    std::vector<double> latencies_ms;
    std::map<int, long> statuses;
    long transport_errors = 0;
};

std::string random_hex(int bytes) {
    std::vector<unsigned char> b(static_cast<std::size_t>(bytes));
    RAND_bytes(b.data(), bytes);
    std::string out;
    for (auto c : b) {
        char h[3];
        std::snprintf(h, sizeof h, "%02x", c);
        out += h;
    }
    return out;
}

asio::awaitable<void> connection(const options& opt, asio::ssl::context& tls, int index,
                                 clock_type::time_point until, results& out) {
    auto executor = co_await asio::this_coro::executor;
    beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(std::chrono::seconds(30));
    auto [connect_error] =
        co_await tcp.async_connect({asio::ip::make_address("127.0.0.1"), opt.port}, use_nothrow);
    if (connect_error) {
        std::lock_guard lock(out.mutex);
        ++out.transport_errors;
        co_return;
    }
    auto [handshake_error] =
        co_await stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
    if (handshake_error) {
        std::lock_guard lock(out.mutex);
        ++out.transport_errors;
        co_return;
    }
    beast::flat_buffer buffer;
    std::vector<double> latencies;
    std::map<int, long> statuses;
    long n = 0;
    while (clock_type::now() < until) {
        std::string id = opt.run_id + "-" + std::to_string(index) + "-" + std::to_string(n++);
        http::request<http::string_body> req{http::verb::post, "/v1/payments", 11};
        req.set(http::field::host, "localhost");
        req.set(http::field::authorization, "Bearer " + opt.api_key);
        req.set(http::field::content_type, "application/json");
        req.set("Idempotency-Key", id);
        req.body() = R"({"account_number": "bench-)" + std::to_string(index) +
                     R"(", "bill_id": ")" + id +
                     R"(", "amount": 12500, "currency": "USD",)"
                     R"( "card": {"number": ")" +
                     opt.card +
                     R"(", "exp_month": 12, "exp_year": 2031, "cvc": "123"},)"
                     R"( "customer": {"name": "Load Test", "email": "load@example.com"}})";
        req.prepare_payload();
        auto started = clock_type::now();
        tcp.expires_after(std::chrono::seconds(30));
        auto [write_error, written] = co_await http::async_write(stream, req, use_nothrow);
        http::response<http::string_body> res;
        auto [read_error, read] = write_error
                                      ? std::tuple{write_error, std::size_t{0}}
                                      : co_await http::async_read(stream, buffer, res, use_nothrow);
        if (write_error || read_error) {
            std::lock_guard lock(out.mutex);
            ++out.transport_errors;
            break;
        }
        latencies.push_back(
            std::chrono::duration<double, std::milli>(clock_type::now() - started).count());
        ++statuses[static_cast<int>(res.result_int())];
    }
    std::lock_guard lock(out.mutex);
    out.latencies_ms.insert(out.latencies_ms.end(), latencies.begin(), latencies.end());
    for (auto [status, count] : statuses) {
        out.statuses[status] += count;
    }
}

int main(int argc, char** argv) {
    CLI::App app{"billpay-loadgen: POST /v1/payments at a fixed concurrency"};
    options opt;
    std::string key_file;
    app.add_option("--port", opt.port, "billpayd's port");
    app.add_option("--api-key-file", key_file, "a portal client's API key")->required();
    app.add_option("--connections", opt.connections, "concurrent keep-alive connections");
    app.add_option("--seconds", opt.seconds, "how long to drive load");
    app.add_option("--threads", opt.threads, "client threads");
    app.add_option("--card", opt.card, "a published test card number");
    CLI11_PARSE(app, argc, argv);
    std::ifstream in(key_file);
    std::getline(in, opt.api_key);
    opt.run_id = random_hex(6);

    asio::io_context ioc(opt.threads);
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.set_verify_mode(asio::ssl::verify_none);  // the development certificate is self-signed
    results out;
    auto started = clock_type::now();
    auto until = started + std::chrono::seconds(opt.seconds);
    for (int i = 0; i < opt.connections; ++i) {
        asio::co_spawn(asio::make_strand(ioc), connection(opt, tls, i, until, out), asio::detached);
    }
    std::vector<std::thread> threads;
    for (int i = 1; i < opt.threads; ++i) {
        threads.emplace_back([&] { ioc.run(); });
    }
    ioc.run();
    for (auto& t : threads) {
        t.join();
    }
    double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
    auto& l = out.latencies_ms;
    std::sort(l.begin(), l.end());
    auto pct = [&](double p) {
        return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<std::size_t>(p * l.size()))];
    };
    long ok = out.statuses[201];
    std::printf(
        "{\"connections\": %d, \"seconds\": %.1f, \"requests\": %zu, \"created_201\": %ld, "
        "\"payments_per_second\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
        "\"transport_errors\": %ld, \"statuses\": {",
        opt.connections, elapsed, l.size(), ok, static_cast<double>(ok) / elapsed, pct(0.50),
        pct(0.99), out.transport_errors);
    bool first = true;
    for (auto [status, count] : out.statuses) {
        std::printf("%s\"%d\": %ld", first ? "" : ", ", status, count);
        first = false;
    }
    std::printf("}}\n");
    return out.transport_errors > 0 || ok == 0 ? 1 : 0;
}
