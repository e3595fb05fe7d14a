#include "correspondence/webhook_transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "correspondence/signature.hpp"

namespace billpay::correspondence {

webhook_transport::webhook_transport(https::client& client, https::endpoint endpoint,
                                     config::secret signing_secret,
                                     std::chrono::milliseconds timeout)
    : client_(client),
      endpoint_(std::move(endpoint)),
      signing_secret_(std::move(signing_secret)),
      timeout_(timeout) {}

boost::asio::awaitable<std::vector<delivery>> webhook_transport::deliver(
    const std::vector<store::outbox_message>& batch) {
    namespace asio = boost::asio;
    // Every message of the batch at once, on this coroutine's executor (the dispatcher's strand:
    // `remaining` and `out` are touched by one thread at a time).
    auto executor = co_await asio::this_coro::executor;
    std::vector<delivery> out(batch.size());
    std::size_t remaining = batch.size();
    asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        asio::co_spawn(
            executor,
            [this, &batch, &out, &remaining, &all_done, i]() -> asio::awaitable<void> {
                out[i] = co_await send(batch[i]);
                if (--remaining == 0) {
                    all_done.cancel();
                }
            },
            asio::detached);
    }
    if (remaining > 0) {
        co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return out;
}

boost::asio::awaitable<delivery> webhook_transport::send(const store::outbox_message& message) {
    namespace http = boost::beast::http;
    using result = delivery::result;
    https::client::request req{http::verb::post, endpoint_.target, 11};
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "billpayd");
    req.set("Idempotency-Key", message.id);
    req.set("Billpay-Signature",
            signature_header(signing_secret_.reveal(), std::time(nullptr), message.body));
    req.body().assign(message.body.data(), message.body.size());
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    // The receiver de-duplicates by the Idempotency-Key: sending again is safe.
    auto answer = co_await client_.send(endpoint_, req, deadline, https::resend::if_unanswered);
    if (answer.stage != https::send_stage::completed) {
        co_return delivery{result::retry, std::nullopt, answer.error.message()};
    }
    if (answer.status >= 200 && answer.status < 300) {
        co_return delivery{result::delivered, answer.status, ""};
    }
    bool permanent =
        answer.status >= 400 && answer.status < 500 && answer.status != 408 && answer.status != 429;
    co_return delivery{permanent ? result::permanent : result::retry, answer.status,
                       "HTTP " + std::to_string(answer.status)};
}

}  // namespace billpay::correspondence
