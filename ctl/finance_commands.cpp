#include "ctl/finance_commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ctl/command_session.hpp"
#include "finance/reconcile.hpp"
#include "finance/refunds.hpp"
#include "finance/reports.hpp"
#include "finance/settlement_import.hpp"
#include "finance/staff_reads.hpp"
#include "gateway_adapters/make_gateway.hpp"
#include "model/ids.hpp"
#include "model/money.hpp"
#include "model/time.hpp"
#include "store/audit.hpp"
#include "store/refunds.hpp"
#include "store/settlements.hpp"

namespace billpay::ctl {
namespace {

/// What finance::staff_reads reads through, for one command.
struct staff_read_stores {
    explicit staff_read_stores(store::database& db)
        : payments(db),
          refunds(db),
          settlements(db),
          audit(db),
          reads(payments, refunds, settlements, audit) {}

    store::postgres_payment_store payments;
    store::refund_store refunds;
    store::settlement_records settlements;
    store::audit_trail audit;
    finance::staff_reads reads;
};

/// The operator, as staff_reads records them.
finance::reader operator_reader() {
    return finance::reader{model::actor{operator_name(), operator_source()}, true, std::nullopt};
}

namespace json = boost::json;

std::string money_text(std::int64_t minor, const model::currency& unit) {
    return model::to_decimal({minor, unit}) + " " + std::string(unit.code());
}

void print_refund(const model::refund_record& r) {
    std::printf("%s  %s  %s  %s  payment %s%s%s\n", r.id.c_str(),
                std::string(model::to_string(r.status)).c_str(), r.kind.value_or("-").c_str(),
                money_text(r.amount.minor_units, r.amount.unit).c_str(), r.payment_id.c_str(),
                r.processor_reference ? ("  processor " + *r.processor_reference).c_str() : "",
                r.failure_code ? ("  failure " + *r.failure_code).c_str() : "");
}

}  // namespace

std::pair<std::string, std::string> last_days(const config::settings& settings, int n) {
    command_session session(settings);
    store::settlement_records records(session.database());
    auto days = session.wait(records.days_before_today(settings.payments.time_zone, n));
    if (!days) {
        std::cerr << "billpayctl: the database is unavailable (" << store::to_string(days.error())
                  << ")\n";
        std::exit(1);
    }
    return *days;
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int write_output(const std::string& output, const std::string& content) {
    if (output.empty() || output == "-") {
        std::fwrite(content.data(), 1, content.size(), stdout);
        return 0;
    }
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
        std::cerr << "billpayctl: cannot write " << output << '\n';
        return 1;
    }
    return 0;
}

store::audit_entry by_operator(std::string action, std::string records, std::string reason,
                               boost::json::object details) {
    return store::audit_entry{operator_name(),   operator_source(),
                              std::move(action), std::move(records),
                              std::move(reason), boost::json::serialize(details)};
}

std::string operator_name() {
    for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
        if (const char* v = std::getenv(var); v && *v) {
            return std::string("billpayctl:") + v;
        }
    }
    return "billpayctl";
}

std::string operator_source() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) {
        return "host:unknown";
    }
    return std::string("host:") + host;
}

namespace {

/// Whether billpayctl holds what it takes to call the processor (its units load only the
/// database's credential unless a drop-in adds the processor's).
bool has_credentials(const config::simulator_settings&) { return true; }
bool has_credentials(const config::stripe_settings& s) { return !s.secret_key.empty(); }
bool has_credentials(const config::authorizenet_settings& s) {
    return !s.login_id.empty() && !s.transaction_key.empty();
}

}  // namespace

bool has_processor_credentials(const config::settings& settings, std::string_view command,
                               std::string_view nothing_done) {
    if (std::visit([](const auto& p) { return has_credentials(p); }, settings.gateway.processor)) {
        return true;
    }
    std::cerr << "billpayctl " << command
              << ": the processor's credentials are not available here: load them into this "
                 "command's credentials, as billpayd.service does (docs/operations.md); "
              << nothing_done << '\n';
    return false;
}

int refund(const config::settings& settings, const refund_options& options) {
    bool printable = std::none_of(options.reason.begin(), options.reason.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (options.reason.empty() || options.reason.size() > 500 || !printable) {
        // The reason goes to the audit trail and the customer's refund_receipt, as the API's.
        std::cerr << "billpayctl refund: --reason must be 1 to 500 characters without control "
                     "characters\n";
        return 2;
    }
    if (!has_processor_credentials(settings, "refund", "nothing was refunded")) {
        return 2;
    }
    command_session session(settings);
    store::refund_store records(session.database());
    auto processor =
        gateway::make_gateway(settings.gateway.processor, session.io_context().get_executor());
    finance::refunds refunds(records, *processor, settings.gateway);
    const finance::refund_order order{options.payment_id,
                                      options.amount,
                                      options.reason,
                                      options.idempotency_key.empty()
                                          ? model::new_id("ref")
                                          : finance::refund_id_for_key(options.idempotency_key),
                                      std::nullopt,
                                      ""};
    if (!options.idempotency_key.empty()) {
        auto earlier = session.wait(records.find(order.refund_id));
        if (!earlier) {
            std::cerr << "billpayctl refund: the database is unavailable: nothing was refunded\n";
            return 1;
        }
        if (*earlier) {
            std::cout << "already asked with this idempotency key:\n";
            print_refund(**earlier);
            return (*earlier)->status == model::refund_status::succeeded ? 0
                   : (*earlier)->status == model::refund_status::pending ? 3
                                                                         : 1;
        }
    }
    const model::actor who{operator_name(), operator_source()};
    auto answer = session.wait(refunds.create(order, who));
    switch (answer.status) {
        case finance::refund_status::succeeded:
            print_refund(*answer.refund);
            std::cout << "payment " << answer.payment->id << " is now "
                      << model::to_string(answer.payment->status) << "; refunded "
                      << money_text(answer.payment->amount_refunded, answer.payment->amount.unit)
                      << " of "
                      << money_text(answer.payment->amount.minor_units, answer.payment->amount.unit)
                      << '\n';
            return 0;
        case finance::refund_status::pending:
            print_refund(*answer.refund);
            std::cout << "the processor's answer was lost: billpayd asks again and finishes it "
                         "(see billpayctl audit list --record "
                      << answer.refund->id << ")\n";
            return 3;
        case finance::refund_status::declined:
            print_refund(*answer.refund);
            std::cerr << "billpayctl refund: the processor refused it (" << answer.decline_code
                      << "): nothing was refunded\n";
            return 1;
        case finance::refund_status::processor_unavailable:
            std::cerr << "billpayctl refund: the processor could not be reached: nothing was "
                         "refunded; run it again\n";
            return 1;
        case finance::refund_status::no_payment:
            std::cerr << "billpayctl refund: no payment " << options.payment_id << '\n';
            return 1;
        case finance::refund_status::not_refundable:
            std::cerr << "billpayctl refund: payment " << options.payment_id
                      << " did not succeed or is refunded in full\n";
            return 1;
        case finance::refund_status::too_much:
            std::cerr << "billpayctl refund: more than what remains of the payment ("
                      << money_text(answer.remaining, answer.payment->amount.unit)
                      << ", counting refunds in progress)\n";
            return 1;
        case finance::refund_status::database_unavailable:
        case finance::refund_status::not_held:
        case finance::refund_status::key_lost:  // billpayctl holds no API key: not reached
            std::cerr << "billpayctl refund: the database is unavailable: nothing was refunded\n";
            return 1;
        case finance::refund_status::outcome_unknown:
            std::cerr << "billpayctl refund: the database failed while holding refund "
                      << order.refund_id
                      << ", and whether it was held is not known (if it was, billpayd sends it). "
                      << (options.idempotency_key.empty()
                              ? "See billpayctl audit list --record " + order.refund_id +
                                    " before asking again"
                              : std::string("Run the same command again with the same "
                                            "--idempotency-key: it finds the refund if it was "
                                            "held, and never makes a second one"))
                      << '\n';
            return 3;
    }
    return 1;
}

int import_settlements(const config::settings& settings, const import_options& o) {
    finance::import_order order{o.processor, o.format, o.file, "", o.from, o.to, o.reason};
    const bool from_file =
        !(o.format.empty() ? o.processor == "authorizenet" : o.format == "authorizenet");
    if (from_file) {
        if (o.file.empty()) {
            std::cerr << "billpayctl settlements import: name the FILE to import\n";
            return 2;
        }
        auto content = read_file(o.file);
        if (!content) {
            std::cerr << o.file << ": cannot be read\n";
            return 1;
        }
        order.content = std::move(*content);
    }
    if (!from_file &&
        !std::holds_alternative<config::authorizenet_settings>(settings.gateway.processor)) {
        std::cerr << "billpayctl settlements import: gateway.processor is not authorizenet: "
                     "there is nothing to pull from\n";
        return 2;
    }
    if (!from_file &&
        !has_processor_credentials(settings, "settlements import", "nothing was imported")) {
        return 2;
    }
    command_session session(settings);
    store::settlement_records records(session.database());
    std::unique_ptr<gateway::gateway> processor;
    if (!from_file) {  // pulled through the processor's API
        processor =
            gateway::make_gateway(settings.gateway.processor, session.io_context().get_executor());
    }
    const model::actor who{operator_name(), operator_source()};
    auto outcome =
        session.wait(finance::import_settlements(settings, records, order, who, processor.get()));
    switch (outcome.status) {
        case finance::import_status::imported:
            std::cout << "imported " << outcome.result.inserted << " lines as "
                      << outcome.result.import_id;
            if (outcome.result.skipped > 0) {
                std::cout << " (" << outcome.result.skipped
                          << " known from an earlier import, skipped)";
            }
            std::cout << '\n';
            return 0;
        case finance::import_status::already_imported:
            std::cout << "already imported as " << outcome.result.import_id
                      << ": nothing changed\n";
            return 0;
        case finance::import_status::nothing_settled:
            std::cout << "Authorize.Net settled nothing from " << o.from << " to " << o.to
                      << ": nothing imported\n";
            return 0;
        case finance::import_status::refused:
            for (const auto& p : outcome.problems) {
                if (p.line > 0) {
                    std::cerr << o.file << ":" << p.line << ": ";
                } else {
                    std::cerr << "billpayctl settlements import: ";
                }
                std::cerr << p.message << '\n';
            }
            if (!outcome.message.empty()) {
                std::cerr << "billpayctl settlements import: " << outcome.message << '\n';
            }
            std::cerr << "billpayctl settlements import: nothing imported\n";
            return outcome.problems.empty() && outcome.format == "authorizenet" ? 2 : 1;
        case finance::import_status::processor_failed:
        case finance::import_status::database_unavailable:
            std::cerr << "billpayctl settlements import: "
                      << (outcome.message.empty() ? "the database is unavailable" : outcome.message)
                      << ": nothing imported\n";
            return 1;
    }
    return 1;
}

int reconcile(const config::settings& settings, const std::string& from, const std::string& to,
              const std::string& today) {
    if (!model::valid_date(from) || !model::valid_date(to) ||
        finance::days_between(from, to).value_or(-1) < 0) {
        std::cerr << "billpayctl reconcile: --from and --to must be dates, from on or before to\n";
        return 2;
    }
    command_session session(settings);
    store::settlement_records records(session.database());
    const model::actor who{operator_name(), operator_source()};
    auto run = session.wait(finance::run_reconciliation(records, settings, from, to, today, who));
    if (!run) {
        std::cerr << "billpayctl reconcile: the database is unavailable ("
                  << store::to_string(run.error()) << "): nothing was reconciled\n";
        return 1;
    }
    std::printf("reconciliation %s, %s to %s: %d matched, %d exceptions\n", run->id.c_str(),
                from.c_str(), to.c_str(), run->matched, run->exceptions);
    for (const auto& i : run->items) {
        if (i.is_exception) {
            std::printf("  %-26s %s  %-28s %-30s %s\n", i.item_class.c_str(), i.day.c_str(),
                        i.reference.c_str(), i.payment_id.c_str(), i.message.c_str());
        }
    }
    // Fee totals per payout, for matching against the bank statement.
    auto summary = json::parse(run->summary_json);
    for (const auto& p : summary.at("payouts").as_array()) {
        auto currency = model::currency::parse(std::string(p.at("currency").as_string()));
        if (!currency) {
            continue;
        }
        std::printf("  payout %-24s %4lld lines  gross %14s  fees %12s  net %14s\n",
                    std::string(p.at("payout_id").as_string()).c_str(),
                    static_cast<long long>(p.at("lines").as_int64()),
                    money_text(p.at("gross").as_int64(), *currency).c_str(),
                    money_text(p.at("fees").as_int64(), *currency).c_str(),
                    money_text(p.at("net").as_int64(), *currency).c_str());
    }
    return run->exceptions == 0 ? 0 : 3;
}

int report_daily(const config::settings& settings, const std::string& from, const std::string& to,
                 const std::string& format, const std::string& output) {
    if (!model::valid_date(from) || !model::valid_date(to) ||
        finance::days_between(from, to).value_or(-1) < 0) {
        std::cerr << "billpayctl report daily: --from and --to must be dates, from on or before "
                     "to\n";
        return 2;
    }
    command_session session(settings);
    staff_read_stores stores(session.database());
    auto report = session.wait(stores.reads.daily(operator_reader(), from, to,
                                                  settings.payments.time_zone, format, output));
    if (!report) {
        std::cerr << "billpayctl report daily: the database is unavailable: nothing exported\n";
        return 1;
    }
    std::string content = format == "json"   ? json::serialize(finance::report_json(*report)) + "\n"
                          : format == "html" ? finance::report_html(*report)
                                             : finance::report_csv(*report);
    return write_output(output, content);
}

int report_gl(const config::settings& settings, const std::string& date,
              const std::string& output) {
    if (!model::valid_date(date)) {
        std::cerr << "billpayctl report gl: --date must be a date (2026-11-26)\n";
        return 2;
    }
    command_session session(settings);
    staff_read_stores stores(session.database());
    auto report = session.wait(
        stores.reads.general_ledger(operator_reader(), date, settings.payments.time_zone, output));
    if (!report) {
        std::cerr << "billpayctl report gl: the database is unavailable: nothing exported\n";
        return 1;
    }
    return write_output(output,
                        finance::general_ledger_csv(date, report->days, settings.finance.accounts));
}

int audit_list(const config::settings& settings, const std::string& record, int limit) {
    command_session session(settings);
    store::audit_trail audit(session.database());
    auto rows = session.wait(audit.list(record, limit));
    if (!rows) {
        std::cerr << "billpayctl audit list: the database is unavailable ("
                  << store::to_string(rows.error()) << ")\n";
        return 1;
    }
    std::printf("%-8s %-27s %-24s %-18s %-24s %s\n", "ROW", "AT", "WHO", "FROM", "ACTION",
                "RECORDS / REASON");
    for (const auto& r : *rows) {
        std::printf("%-8lld %-27s %-24s %-18s %-24s %s%s%s\n", static_cast<long long>(r.id),
                    r.at.c_str(), r.entry.actor.c_str(), r.entry.source.c_str(),
                    r.entry.action.c_str(), r.entry.records.c_str(),
                    r.entry.reason.empty() ? "" : " / ", r.entry.reason.c_str());
    }
    return 0;
}

}  // namespace billpay::ctl
