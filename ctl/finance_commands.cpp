#include "ctl/finance_commands.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <sstream>

#include "finance/reconcile.hpp"
#include "finance/refunds.hpp"
#include "finance/reports.hpp"
#include "finance/settlement_files.hpp"
#include "gateway_adapters/authorizenet/authorizenet_gateway.hpp"
#include "gateway_adapters/make_gateway.hpp"
#include "payments/ids.hpp"
#include "payments/money.hpp"
#include "store/audit.hpp"
#include "store/database.hpp"
#include "store/refunds.hpp"
#include "store/settlements.hpp"

namespace billpay::ctl {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

store::database open_store(const config::settings& settings) {
    return store::database(store::database_options{std::string(settings.database.dsn.reveal()), 2,
                                                   settings.database.connect_timeout,
                                                   settings.database.statement_timeout});
}

template <class T>
T run_async(asio::io_context& ioc, asio::awaitable<T> work) {
    auto done = asio::co_spawn(ioc, std::move(work), asio::use_future);
    ioc.run();
    return done.get();
}

/// A refund id from the operator's idempotency key: the same key names the same refund.
std::string refund_id_for_key(const std::string& key) {
    std::string input = "billpayctl refund:" + key;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    std::string id = "ref_";
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned int i = 0; i < length && id.size() < 30; ++i) {
        buffer = (buffer << 8) | digest[i];
        bits += 8;
        while (bits >= 5 && id.size() < 30) {
            id.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    return id;
}

std::string money_text(std::int64_t minor, const payments::currency& unit) {
    return payments::to_decimal({minor, unit}) + " " + std::string(unit.code());
}

void print_refund(const store::refund_record& r) {
    std::printf("%s  %s  %s  %s  payment %s%s%s\n", r.id.c_str(), r.status.c_str(),
                r.kind.value_or("-").c_str(),
                money_text(r.amount.minor_units, r.amount.unit).c_str(), r.payment_id.c_str(),
                r.processor_reference ? ("  processor " + *r.processor_reference).c_str() : "",
                r.failure_code ? ("  failure " + *r.failure_code).c_str() : "");
}

bool valid_date(const std::string& text) {
    return text.size() == 10 && finance::days_between(text, text).has_value();
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
                               json::object details) {
    return store::audit_entry{operator_name(),    operator_source(), std::move(action),
                              std::move(records), std::move(reason), json::serialize(details)};
}

/// Authorize.Net's settled batches for a date range, as settlement lines.
std::variant<std::vector<store::settlement_line>, std::string> pull_authorizenet(
    const config::settings& settings, const std::string& from, const std::string& to) {
    const auto* anet = std::get_if<config::authorizenet_settings>(&settings.gateway.processor);
    if (anet == nullptr) {
        return std::string("gateway.processor is not authorizenet: there is nothing to pull from");
    }
    auto currency = payments::currency::parse(settings.payments.currencies.front()).value();
    asio::io_context ioc;
    gateway::authorizenet::authorizenet_gateway adapter(*anet, ioc.get_executor());
    auto deadline = [&] { return std::chrono::steady_clock::now() + anet->timeout; };
    const std::string first = from + "T00:00:00Z";
    const std::string last = to + "T23:59:59Z";
    auto batches = run_async(ioc, adapter.settled_batches(first, last, deadline()));
    if (batches.result != gateway::outcome::approved) {
        return "Authorize.Net: " + batches.message;
    }
    std::vector<store::settlement_line> lines;
    for (const auto& b : batches.batches) {
        ioc.restart();
        auto list = run_async(ioc, adapter.batch_transactions(b.batch_id, deadline()));
        if (list.result != gateway::outcome::approved) {
            return "Authorize.Net batch " + b.batch_id + ": " + list.message;
        }
        for (const auto& t : list.transactions) {
            bool charge = t.status == "settledSuccessfully";
            bool refund = t.status == "refundSettledSuccessfully";
            if (!charge && !refund) {
                continue;  // voided, declined: nothing moved
            }
            auto amount = payments::parse_decimal(t.settle_amount, currency);
            if (!amount) {
                return "Authorize.Net transaction " + t.trans_id + ": settleAmount \"" +
                       t.settle_amount + "\" is not an amount";
            }
            store::settlement_line l;
            l.line_id = t.trans_id;
            l.settled_at = b.settlement_time_utc.substr(0, 19) + "Z";
            l.kind = charge ? "charge" : "refund";
            l.reference = t.trans_id;
            l.refund_reference = refund ? t.trans_id : "";
            l.currency = std::string(currency.code());
            l.gross = charge ? *amount : -*amount;  // refunds negative, as in Stripe's report
            l.fee = 0;  // Authorize.Net bills its fees monthly, not per batch
            l.net = l.gross;
            l.payout_id = b.batch_id;
            lines.push_back(std::move(l));
        }
    }
    return lines;
}

}  // namespace

std::pair<std::string, std::string> last_days(const config::settings& settings, int n) {
    auto db = open_store(settings);
    return db.run_blocking([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        auto r = tx.exec_params(
            "SELECT to_char((now() AT TIME ZONE $1)::date - $2::int, 'YYYY-MM-DD'),"
            " to_char((now() AT TIME ZONE $1)::date - 1, 'YYYY-MM-DD')",
            settings.payments.time_zone, n);
        return std::pair{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
    });
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
    auto db = open_store(settings);
    asio::io_context ioc;
    auto processor = gateway::make_gateway(settings.gateway.processor, db, ioc.get_executor());
    finance::refunds refunds(db, *processor, settings.gateway.timeout);
    finance::refund_order order{options.payment_id, options.amount, options.reason,
                                options.idempotency_key.empty()
                                    ? payments::new_id("ref")
                                    : refund_id_for_key(options.idempotency_key)};
    try {
        if (!options.idempotency_key.empty()) {
            auto earlier = db.run_blocking([&order](pqxx::connection& conn) {
                return store::find_refund(conn, order.refund_id);
            });
            if (earlier) {
                std::cout << "already asked with this idempotency key:\n";
                print_refund(*earlier);
                return earlier->status == "succeeded" ? 0 : earlier->status == "pending" ? 3 : 1;
            }
        }
    } catch (const std::exception& e) {
        std::cerr << "billpayctl refund: " << e.what() << '\n';
        return 1;
    }
    const finance::actor who{operator_name(), operator_source()};
    auto answer = run_async(ioc, refunds.create(order, who));
    switch (answer.status) {
        case finance::refund_status::succeeded:
            print_refund(*answer.refund);
            std::cout << "payment " << answer.payment->id << " is now "
                      << payments::to_string(answer.payment->status) << "; refunded "
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
            std::cerr << "billpayctl refund: the database is unavailable: nothing was refunded\n";
            return 1;
    }
    return 1;
}

int import_settlements(const config::settings& settings, const import_options& o) {
    std::string format = o.format.empty() ? (o.processor == "stripe"         ? "stripe"
                                             : o.processor == "authorizenet" ? "authorizenet"
                                                                             : "generic")
                                          : o.format;
    std::vector<store::settlement_line> lines;
    std::string source;
    std::string digest;
    if (format == "authorizenet") {
        if (!valid_date(o.from) || !valid_date(o.to) ||
            finance::days_between(o.from, o.to).value_or(-1) < 0 ||
            finance::days_between(o.from, o.to).value_or(99) > 30) {
            std::cerr << "billpayctl settlements import: --processor authorizenet needs --from "
                         "and --to dates at most 31 days apart\n";
            return 2;
        }
        auto pulled = pull_authorizenet(settings, o.from, o.to);
        if (auto* error = std::get_if<std::string>(&pulled)) {
            std::cerr << "billpayctl settlements import: " << *error << ": nothing imported\n";
            return 1;
        }
        lines = std::get<0>(pulled);
        source = "authorizenet " + o.from + ".." + o.to;
        std::string canonical;
        for (const auto& l : lines) {
            canonical += l.line_id + "|" + l.settled_at + "|" + l.kind + "|" +
                         std::to_string(l.gross) + "|" + l.payout_id + "\n";
        }
        digest = finance::content_sha256(canonical);
        if (lines.empty()) {
            std::cout << "Authorize.Net settled nothing from " << o.from << " to " << o.to
                      << ": nothing imported\n";
            return 0;
        }
    } else {
        if (o.file.empty()) {
            std::cerr << "billpayctl settlements import: name the FILE to import\n";
            return 2;
        }
        auto content = read_file(o.file);
        if (!content) {
            std::cerr << o.file << ": cannot be read\n";
            return 1;
        }
        auto parsed = format == "stripe" ? finance::parse_stripe_itemized(*content)
                                         : finance::parse_generic(*content);
        if (!parsed.problems.empty()) {
            for (const auto& p : parsed.problems) {
                std::cerr << o.file << ":" << p.line << ": " << p.message << '\n';
            }
            std::cerr << "billpayctl settlements import: nothing imported\n";
            return 1;
        }
        lines = std::move(parsed.lines);
        source = o.file;
        digest = finance::content_sha256(*content);
    }
    auto db = open_store(settings);
    const std::string import_id = payments::new_id("imp");
    auto audit = by_operator("settlements.imported", import_id, o.reason,
                             json::object{{"processor", o.processor},
                                          {"format", format},
                                          {"source", source},
                                          {"sha256", digest},
                                          {"lines", static_cast<std::int64_t>(lines.size())}});
    try {
        auto result = db.run_blocking([&](pqxx::connection& conn) {
            return store::import_settlement(conn, import_id, o.processor, format, source, digest,
                                            lines, audit);
        });
        if (result.already_imported) {
            std::cout << "already imported as " << result.import_id << ": nothing changed\n";
            return 0;
        }
        std::cout << "imported " << result.inserted << " lines as " << result.import_id;
        if (result.skipped > 0) {
            std::cout << " (" << result.skipped << " known from an earlier import, skipped)";
        }
        std::cout << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "billpayctl settlements import: " << e.what() << ": nothing imported\n";
        return 1;
    }
}

int reconcile(const config::settings& settings, const std::string& from, const std::string& to,
              const std::string& today_option) {
    if (!valid_date(from) || !valid_date(to) || finance::days_between(from, to).value_or(-1) < 0) {
        std::cerr << "billpayctl reconcile: --from and --to must be dates, from on or before to\n";
        return 2;
    }
    auto db = open_store(settings);
    const auto& tz = settings.payments.time_zone;
    try {
        auto run = db.run_blocking([&](pqxx::connection& conn) {
            finance::reconcile_input in;
            in.from = from;
            in.to = to;
            in.settlement_days = settings.finance.settlement_days;
            if (today_option.empty()) {
                pqxx::read_transaction tx(conn);
                in.today = tx.exec_params(
                                 "SELECT to_char((now() AT TIME ZONE $1)::date,"
                                 " 'YYYY-MM-DD')",
                                 tz)[0][0]
                               .as<std::string>();
            } else {
                in.today = today_option;
            }
            in.lines = store::lines_settled_between(conn, from, to, tz);
            std::vector<std::string> references;
            for (const auto& l : in.lines) {
                references.push_back(l.refund_reference.empty() ? l.reference : l.refund_reference);
                references.push_back(l.reference);
            }
            in.payments = store::ledger_payments(conn, from, to, tz, references);
            in.refunds = store::ledger_refunds(conn, from, to, tz, references);
            std::vector<std::string> ours;
            for (const auto& p : in.payments) {
                ours.push_back(p.reference);
            }
            for (const auto& r : in.refunds) {
                ours.push_back(r.reference);
            }
            in.other_lines = store::lines_for_references(conn, ours);
            auto result = finance::reconcile(in, payments::new_id("rec"), operator_name());
            auto audit = by_operator("reconciliation.run", result.id, "",
                                     json::object{{"from", from},
                                                  {"to", to},
                                                  {"matched", result.matched},
                                                  {"exceptions", result.exceptions}});
            store::save_reconciliation(conn, result, audit);
            return result;
        });
        std::printf("reconciliation %s, %s to %s: %d matched, %d exceptions\n", run.id.c_str(),
                    from.c_str(), to.c_str(), run.matched, run.exceptions);
        for (const auto& i : run.items) {
            if (i.is_exception) {
                std::printf("  %-26s %s  %-28s %-30s %s\n", i.item_class.c_str(), i.day.c_str(),
                            i.reference.c_str(), i.payment_id.c_str(), i.message.c_str());
            }
        }
        // Fee totals per payout, for matching against the bank statement.
        auto summary = json::parse(run.summary_json);
        for (const auto& p : summary.at("payouts").as_array()) {
            auto currency = payments::currency::parse(std::string(p.at("currency").as_string()));
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
        return run.exceptions == 0 ? 0 : 3;
    } catch (const std::exception& e) {
        std::cerr << "billpayctl reconcile: " << e.what() << '\n';
        return 1;
    }
}

int report_daily(const config::settings& settings, const std::string& from, const std::string& to,
                 const std::string& format, const std::string& output) {
    if (!valid_date(from) || !valid_date(to) || finance::days_between(from, to).value_or(-1) < 0) {
        std::cerr << "billpayctl report daily: --from and --to must be dates, from on or before "
                     "to\n";
        return 2;
    }
    auto db = open_store(settings);
    try {
        finance::daily_report report{from, to, settings.payments.time_zone, {}, {}};
        db.run_blocking([&](pqxx::connection& conn) {
            report.days = store::daily_totals(conn, from, to, report.time_zone);
            report.exceptions = store::latest_exceptions(conn, from, to);
            store::append_audit(
                conn, by_operator("report.exported", "daily", "",
                                  json::object{{"from", from},
                                               {"to", to},
                                               {"format", format},
                                               {"output", output.empty() ? "-" : output}}));
            return true;
        });
        std::string content = format == "json"
                                  ? json::serialize(finance::report_json(report)) + "\n"
                              : format == "html" ? finance::report_html(report)
                                                 : finance::report_csv(report);
        return write_output(output, content);
    } catch (const std::exception& e) {
        std::cerr << "billpayctl report daily: " << e.what() << '\n';
        return 1;
    }
}

int report_gl(const config::settings& settings, const std::string& date,
              const std::string& output) {
    if (!valid_date(date)) {
        std::cerr << "billpayctl report gl: --date must be a date (2026-11-26)\n";
        return 2;
    }
    auto db = open_store(settings);
    try {
        std::vector<store::daily_total> day;
        db.run_blocking([&](pqxx::connection& conn) {
            day = store::daily_totals(conn, date, date, settings.payments.time_zone);
            store::append_audit(
                conn, by_operator(
                          "report.gl_exported", "gl:" + date, "",
                          json::object{{"date", date}, {"output", output.empty() ? "-" : output}}));
            return true;
        });
        return write_output(output,
                            finance::general_ledger_csv(date, day, settings.finance.accounts));
    } catch (const std::exception& e) {
        std::cerr << "billpayctl report gl: " << e.what() << '\n';
        return 1;
    }
}

int audit_verify(const config::settings& settings) {
    auto db = open_store(settings);
    try {
        auto check =
            db.run_blocking([](pqxx::connection& conn) { return store::verify_audit(conn); });
        if (check.broken) {
            std::printf("audit trail BROKEN at row %lld: %s\n",
                        static_cast<long long>(check.broken->row_id),
                        check.broken->problem.c_str());
            return 1;
        }
        std::printf("audit trail intact: %lld rows; last hash %s\n",
                    static_cast<long long>(check.rows), check.last_hash.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "billpayctl audit verify: " << e.what() << '\n';
        return 1;
    }
}

int audit_list(const config::settings& settings, const std::string& record, int limit) {
    auto db = open_store(settings);
    try {
        auto rows = db.run_blocking(
            [&](pqxx::connection& conn) { return store::list_audit(conn, record, limit); });
        std::printf("%-8s %-27s %-24s %-18s %-24s %s\n", "ROW", "AT", "WHO", "FROM", "ACTION",
                    "RECORDS / REASON");
        for (const auto& r : rows) {
            std::printf("%-8lld %-27s %-24s %-18s %-24s %s%s%s\n", static_cast<long long>(r.id),
                        r.at.c_str(), r.entry.actor.c_str(), r.entry.source.c_str(),
                        r.entry.action.c_str(), r.entry.records.c_str(),
                        r.entry.reason.empty() ? "" : " / ", r.entry.reason.c_str());
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "billpayctl audit list: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace billpay::ctl
