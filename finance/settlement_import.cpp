#include "finance/settlement_import.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "finance/reconcile.hpp"
#include "model/ids.hpp"
#include "model/money.hpp"
#include "model/time.hpp"

namespace billpay::finance {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

}  // namespace

asio::awaitable<std::variant<std::vector<store::settlement_line>, std::string>> pull_settlements(
    gateway::gateway& processor, model::currency unit, const std::string& from,
    const std::string& to, gateway::deadline by) {
    auto pulled = co_await processor.settlements(from, to, unit, by);
    if (pulled.result != gateway::outcome::approved) {
        co_return pulled.message;
    }
    std::vector<store::settlement_line> lines;
    for (const auto& t : pulled.transactions) {
        store::settlement_line l;
        l.line_id = t.id;
        l.settled_at = t.settled_at;
        l.kind = t.refund ? "refund" : "charge";
        l.reference = t.id;
        l.refund_reference = t.refund ? t.id : "";
        l.currency = std::string(unit.code());
        l.gross = t.refund ? -t.amount.minor_units : t.amount.minor_units;  // as Stripe's report
        l.fee = 0;  // Authorize.Net bills its fees monthly, not per batch
        l.net = l.gross;
        l.payout_id = t.settlement_id;
        lines.push_back(std::move(l));
    }
    co_return lines;
}

asio::awaitable<import_outcome> import_settlements(const config::settings& settings,
                                                   store::settlement_store& records,
                                                   const import_order& o, const model::actor& who,
                                                   gateway::gateway* processor) {
    import_outcome out;
    out.format = o.format.empty() ? (o.processor == "stripe"         ? "stripe"
                                     : o.processor == "authorizenet" ? "authorizenet"
                                                                     : "generic")
                                  : o.format;
    std::vector<store::settlement_line> lines;
    std::string source;
    std::string digest;
    if (out.format == "authorizenet") {
        if (!model::valid_date(o.from) || !model::valid_date(o.to) ||
            days_between(o.from, o.to).value_or(-1) < 0 ||
            days_between(o.from, o.to).value_or(99) > 30) {
            out.status = import_status::refused;
            out.message =
                "--processor authorizenet needs --from and --to dates at most 31 days "
                "apart";
            co_return out;
        }
        if (processor == nullptr || processor->name() != "authorizenet") {
            out.status = import_status::processor_failed;
            out.message = "gateway.processor is not authorizenet: there is nothing to pull from";
            co_return out;
        }
        const auto timeout =
            std::get<config::authorizenet_settings>(settings.gateway.processor).timeout;
        auto pulled = co_await pull_settlements(
            *processor, model::currency::parse(settings.payments.currencies.front()).value(),
            o.from, o.to, std::chrono::steady_clock::now() + 60 * timeout);
        if (auto* error = std::get_if<std::string>(&pulled)) {
            out.status = import_status::processor_failed;
            out.message = *error;
            co_return out;
        }
        lines = std::get<0>(std::move(pulled));
        if (lines.empty()) {
            out.status = import_status::nothing_settled;
            co_return out;
        }
        source = "authorizenet " + o.from + ".." + o.to;
        std::string canonical;
        for (const auto& l : lines) {
            canonical += l.line_id + "|" + l.settled_at + "|" + l.kind + "|" +
                         std::to_string(l.gross) + "|" + l.payout_id + "\n";
        }
        digest = content_sha256(canonical);
    } else {
        auto parsed =
            out.format == "stripe" ? parse_stripe_itemized(o.content) : parse_generic(o.content);
        if (!parsed.problems.empty()) {
            out.status = import_status::refused;
            out.problems = std::move(parsed.problems);
            co_return out;
        }
        lines = std::move(parsed.lines);
        source = o.file;
        digest = content_sha256(o.content);
    }
    const std::string import_id = model::new_id("imp");
    const store::audit_entry audit{
        who.id,
        who.source,
        "settlements.imported",
        import_id,
        o.reason,
        json::serialize(json::object{{"processor", o.processor},
                                     {"format", out.format},
                                     {"source", source},
                                     {"sha256", digest},
                                     {"lines", static_cast<std::int64_t>(lines.size())}})};
    auto imported =
        co_await records.import(import_id, o.processor, out.format, source, digest, lines, audit);
    if (!imported) {
        out.status = imported.error() == store::error::conflict ||
                             imported.error() == store::error::invalid_argument
                         ? import_status::refused
                         : import_status::database_unavailable;
        out.message =
            "the database refused it (" + std::string(store::to_string(imported.error())) + ")";
        co_return out;
    }
    out.result = *imported;
    if (!imported->conflicts.empty()) {
        // The processor reports a line it reported before, with other content: never skipped.
        // Finance must learn why (a restated fee, a corrected payout) before anything is taken.
        for (const auto& c : imported->conflicts) {
            out.problems.push_back(
                {c.source_line, c.line_id + " was imported before (" + c.earlier_import +
                                    ") with another " + c.fields +
                                    ": the processor restated it; ask the processor which is "
                                    "right before importing this file"});
        }
        out.status = import_status::refused;
        co_return out;
    }
    out.status =
        imported->already_imported ? import_status::already_imported : import_status::imported;
    co_return out;
}

}  // namespace billpay::finance
