// libFuzzer: the HTTP request path of billpayd's server over an in-memory stream (Beast's test
// stream): the parser with the server's limits, the header checks (request_checks), the
// router's admission (authentication before any body is read), routing, query parsing, and the
// JSON request parsers behind the payment routes. The input is one connection's bytes; every
// request on it is answered (or the connection closed), and nothing crashes.
#include <openssl/sha.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <cstdlib>

#include "daemon/api_clients.hpp"
#include "daemon/payment_requests.hpp"
#include "daemon/request_checks.hpp"
#include "daemon/router.hpp"
#include "logging/log.hpp"
#include "tokenizer/card_data.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace billpay;
using namespace billpay::daemon;

constexpr std::size_t max_header_bytes = 8 * 1024;  // the server's defaults
constexpr std::size_t max_body_bytes = 64 * 1024;

/// The routes, as the service lays them out, with handlers that parse what the real ones parse.
const router& routes() {
    static const api_clients clients([] {
        // The key "fuzz-key": inputs that carry it reach the handlers.
        config::client_settings portal{"portal", config::client_role::portal, std::nullopt,
                                       std::nullopt};
        std::array<std::uint8_t, 32> digest{};
        SHA256(reinterpret_cast<const unsigned char*>("fuzz-key"), 8, digest.data());
        portal.api_key_sha256 = digest;
        return std::vector<config::client_settings>{portal};
    }());
    static const router r = [] {
        router out;
        auto ok = [](request_context&, request&) -> asio::awaitable<api_result> {
            co_return json_response(http::status::ok, boost::json::object{{"status", "ok"}});
        };
        out.add(http::verb::get, "/healthz", ok, router::access::anyone);
        out.add(http::verb::post, "/v1/payments",
                [](request_context&, request& req) -> asio::awaitable<api_result> {
                    auto parsed = parse_payment_request(req.body());
                    if (!parsed) {
                        co_return parsed.error();
                    }
                    co_return json_response(http::status::created, boost::json::object{});
                });
        out.add(http::verb::post, "/v1/payment_methods",
                [](request_context&, request& req) -> asio::awaitable<api_result> {
                    auto parsed = parse_payment_method_request(req.body());
                    if (!parsed) {
                        co_return parsed.error();
                    }
                    co_return json_response(http::status::created, boost::json::object{});
                });
        out.add(http::verb::get, "/v1/payments", ok);
        out.add(http::verb::get, "/v1/payments/{id}", ok);
        out.add(http::verb::delete_, "/v1/payment_methods/{id}", ok);
        out.authenticate_with([](const request& req, const request_context& ctx) {
            auto client = clients.authenticate(req, ctx);
            return client ? std::optional<api_error>() : std::optional<api_error>(client.error());
        });
        return out;
    }();
    return r;
}

asio::awaitable<void> serve(beast::test::stream& stream) {
    beast::basic_flat_buffer<memory::wiping_allocator<char>> buffer;
    for (int requests = 0; requests < 32; ++requests) {
        http::request_parser<request_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
        parser.body_limit(max_body_bytes);
        request_context ctx;
        ctx.request_id = "req_fuzz";
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser,
                                                        asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;  // the server answers a parse error and closes; nothing more to read
        }
        response res;
        if (auto bad = header_refusal(parser.get(), max_header_bytes)) {
            res = render(*bad, ctx.request_id);
        } else if (auto admitted = routes().admit(parser.get(), ctx); admitted.refusal) {
            res = std::move(*admitted.refusal);
        } else {
            auto [body_ec, m] = co_await http::async_read(stream, buffer, parser,
                                                          asio::as_tuple(asio::use_awaitable));
            if (body_ec) {
                co_return;
            }
            res = co_await routes().dispatch(ctx, parser.get());
        }
        if (res.result_int() < 200 || res.result_int() > 599) {
            std::abort();
        }
        res.prepare_payload();
        auto [write_ec, w] =
            co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        if (write_ec || !parser.get().keep_alive()) {
            co_return;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // As billpayd starts: the locked heap that card data lives in (else no card is read).
    static const bool ready =
        (logging::init("off"), tokenizer::init_secure_memory(64 * 1024) || (std::abort(), true));
    (void)ready;
    asio::io_context ioc;
    beast::test::stream client(ioc);
    beast::test::stream server(ioc);
    client.connect(server);
    server.append({reinterpret_cast<const char*>(data), size});  // the connection's bytes
    client.close();                                              // and then the client hangs up
    asio::co_spawn(ioc, serve(server), asio::detached);
    ioc.run();
    return 0;
}
