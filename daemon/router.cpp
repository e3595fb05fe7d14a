#include "daemon/router.hpp"

#include <boost/url/parse.hpp>

namespace billpay::daemon {
namespace {

std::vector<std::string> split_pattern(const std::string& pattern) {
    std::vector<std::string> out;
    std::size_t start = 1;  // patterns start with '/'
    while (start <= pattern.size()) {
        auto slash = pattern.find('/', start);
        if (slash == std::string::npos) {
            slash = pattern.size();
        }
        out.push_back(pattern.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
             std::map<std::string, std::string>* params) {
    if (pattern.size() != path.size()) {
        return false;
    }
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const auto& p = pattern[i];
        if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
            if (path[i].empty()) {
                return false;
            }
            if (params) {
                (*params)[p.substr(1, p.size() - 2)] = path[i];
            }
        } else if (p != path[i]) {
            return false;
        }
    }
    return true;
}

/// Stripe-style filters (created[gte]=...) arrive with raw brackets, which RFC 3986 allows only
/// percent-encoded in a query; encode them rather than refuse the request.
std::string bracket_safe(std::string_view target) {
    std::string raw(target);
    for (auto at = raw.find_first_of("[]"); at != std::string::npos; at = raw.find_first_of("[]")) {
        raw.replace(at, 1, raw[at] == '[' ? "%5B" : "%5D");
    }
    return raw;
}

std::vector<std::string> segments_of(const boost::urls::url_view& target) {
    std::vector<std::string> segments;
    for (auto segment : target.segments()) {
        segments.push_back(segment);
    }
    if (segments.empty()) {
        segments.emplace_back();
    }
    return segments;
}

}  // namespace

void router::add(http::verb method, std::string pattern, handler h, access who) {
    routes_.push_back(route{method, split_pattern(pattern), std::move(h), who});
}

router::admission router::admit(const request& req, const request_context& ctx) const {
    admission out;
    const auto raw = bracket_safe(req.target());
    auto target = boost::urls::parse_origin_form(raw);
    if (!target) {
        return out;
    }
    const auto segments = segments_of(*target);
    for (const auto& r : routes_) {
        if (r.method != req.method() || !matches(r.segments, segments, nullptr)) {
            continue;
        }
        if (r.who == access::anyone || !authenticate_) {
            return out;
        }
        if (auto refusal = authenticate_(req, ctx)) {
            out.refusal = render(*refusal, ctx.request_id);
        } else {
            out.authenticated = true;
        }
        return out;
    }
    return out;
}

boost::asio::awaitable<response> router::dispatch(request_context& ctx, request& req) const {
    const auto raw = bracket_safe(req.target());
    auto target = boost::urls::parse_origin_form(raw);
    if (!target) {
        co_return render(
            invalid_request("", "invalid_target", "The request target is not a valid path."),
            ctx.request_id);
    }
    const auto segments = segments_of(*target);
    ctx.path = target->path();
    for (auto param : target->params()) {
        if (ctx.query.contains(param.key)) {
            // Which one would count? Readers disagree (first, last, both): refuse to guess.
            co_return render(
                invalid_request(std::string(param.key), "parameter_invalid",
                                "The query names " + std::string(param.key) + " more than once."),
                ctx.request_id);
        }
        ctx.query.emplace(param.key, param.value);
    }

    std::string allowed;
    for (const auto& r : routes_) {
        if (!matches(r.segments, segments, nullptr)) {
            continue;
        }
        if (r.method == req.method()) {
            matches(r.segments, segments, &ctx.path_params);
            for (const auto& segment : r.segments) {
                ctx.route += "/" + segment;
            }
            if (ctx.path_params.contains("account_number")) {
                // The access log names the route, not the customer's account (docs/privacy.md).
                ctx.path = ctx.route;
            }
            auto answer = co_await r.h(ctx, req);
            if (!answer) {
                co_return render(answer.error(), ctx.request_id);
            }
            co_return std::move(*answer);
        }
        auto name = http::to_string(r.method);
        allowed += (allowed.empty() ? "" : ", ") + std::string(name.data(), name.size());
    }
    if (!allowed.empty()) {
        api_error refusal{http::status::method_not_allowed, error_type::invalid_request_error,
                          "method_not_allowed", "This path does not accept that method."};
        refusal.headers.emplace_back(http::field::allow, allowed);
        co_return render(refusal, ctx.request_id);
    }
    co_return render(not_found("No such endpoint.", ""), ctx.request_id);
}

}  // namespace billpay::daemon
