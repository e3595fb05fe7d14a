#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/api_clients.hpp"
#include "daemon/api_error.hpp"
#include "store/idempotency_keys.hpp"

namespace billpay::daemon {

/// Every request with a body here takes JSON, and says so: anything else is 415, before it is
/// read as JSON (a form or text body read as JSON could mean something its sender did not).
std::optional<api_error> json_body_refusal(const request& req);

/// What the work under a claimed key decided about the key.
enum class key_outcome {
    record,   // its answer is what the key replays (a saved card, a refund, a declined card)
    release,  // nothing happened outside billpayd: the key is given back for a retry
    settled,  // the store wrote the key's answer with the work itself (a payment's), or the key
              // is no longer this request's: nothing more to write
};

struct post_outcome {
    api_result answer;
    key_outcome key = key_outcome::record;
};

/// One POST that takes an Idempotency-Key, as its handler describes it to the pipeline.
struct idempotent_post {
    std::vector<config::client_role> roles;
    std::string path;          // the request path the key is claimed for
    std::string nothing_done;  // what a 503 before the work says was not done
    /// Parses and checks the body: the request's fingerprint (SHA-256 over what identifies the
    /// request, any card by its keyed fingerprint), or its refusal. Nothing is claimed for a
    /// refused request.
    std::function<boost::system::result<std::string, api_error>(const api_client&)> fingerprint;
    /// The work, under the claimed key.
    std::function<boost::asio::awaitable<post_outcome>(const api_client&, const model::key_lease&)>
        run;
};

/// The one pipeline every POST with an Idempotency-Key goes through (payments, saved cards,
/// refunds), Stripe's semantics: authenticate the caller and check its role → read the key
/// (1-255 visible ASCII characters) → parse and fingerprint the body → claim the key (scoped
/// to the client) → replay a finished key's answer byte for byte (Idempotent-Replayed: true),
/// or refuse one in flight (409 idempotency_key_in_use) or reused for another request (422) →
/// run → record the answer, or give the key back when nothing happened.
class idempotent_posts {
  public:
    /// `lease`: how long a claim holds its key without news (config::charge_window).
    idempotent_posts(const api_clients& clients, store::idempotency_keys& keys,
                     std::chrono::milliseconds lease);

    boost::asio::awaitable<api_result> serve(request_context& ctx, request& req,
                                             const idempotent_post& post) const;

  private:
    const api_clients& clients_;
    store::idempotency_keys& keys_;
    std::chrono::milliseconds lease_;
};

/// A stored answer as an HTTP response, and an answer as one to store.
response from_stored(const model::stored_response& stored);
model::stored_response to_stored(const api_result& answer, std::string_view request_id);

}  // namespace billpay::daemon
