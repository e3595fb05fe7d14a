// billpayctl: the operators' and finance staff's command line. See docs/operations.md.
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <tuple>

#include "config/load.hpp"
#include "ctl/command_session.hpp"
#include "ctl/finance_commands.hpp"
#include "ctl/privacy_commands.hpp"
#include "logging/log.hpp"
#include "store/audit.hpp"
#include "store/migrations.hpp"
#include "store/outbox.hpp"

namespace {

using namespace billpay;

config::settings load_or_exit(const std::string& file) {
    try {
        return config::load(file, config::reader::billpayctl);
    } catch (const config::invalid_config& e) {
        for (const auto& p : e.problems()) {
            std::cerr << p.to_string() << '\n';
        }
        std::exit(1);
    }
}

int run_migrate(const std::string& config_file) {
    auto settings = load_or_exit(config_file);
    // Migrations may rewrite large tables: no statement timeout for them.
    ctl::command_session session(settings, std::chrono::hours(24));
    store::schema schema(session.database());
    auto report = session.wait(schema.migrate());
    if (!report) {
        std::cerr << "billpayctl migrate: " << store::to_string(report.error())
                  << " (billpayd's log line above says more)\n";
        return 1;
    }
    if (report->applied.empty()) {
        std::cout << "schema is current at version " << report->to_version << '\n';
    } else {
        std::cout << "migrated schema from version " << report->from_version << " to "
                  << report->to_version << " (" << report->applied.size() << " applied)\n";
    }
    return 0;
}

int run_receipts_list(const std::string& config_file, const std::string& status, int limit) {
    auto settings = load_or_exit(config_file);
    ctl::command_session session(settings);
    store::outbox outbox(session.database());
    auto messages = session.wait(outbox.list(status, limit));
    auto stats = session.wait(outbox.statistics());
    if (!messages || !stats) {
        std::cerr << "billpayctl receipts list: the database is unavailable\n";
        return 1;
    }
    std::printf("%-32s %-17s %-10s %8s %10s  %-24s %s\n", "ID", "TYPE", "STATUS", "ATTEMPTS", "AGE",
                "PAYMENT", "LAST ERROR");
    for (const auto& m : *messages) {
        std::string shown_status = m.status == "pending" && m.last_error ? "failed" : m.status;
        std::printf("%-32s %-17s %-10s %8d %9.0fs  %-24s %s\n", m.id.c_str(), m.type.c_str(),
                    shown_status.c_str(), m.attempts, m.age_seconds, m.payment_id.c_str(),
                    m.last_error.value_or("").c_str());
    }
    std::printf("\nbacklog: %lld undelivered, oldest %.0f s; dead-lettered: %lld\n",
                static_cast<long long>(stats->backlog), stats->oldest_pending_age_seconds,
                static_cast<long long>(stats->dead));
    return 0;
}

int run_receipts_replay(const std::string& config_file, const std::string& id) {
    auto settings = load_or_exit(config_file);
    ctl::command_session session(settings);
    store::outbox outbox(session.database());
    const store::audit_entry audit{
        ctl::operator_name(), ctl::operator_source(), "receipts.replayed", id, "", "{}"};
    auto replayed = session.wait(outbox.replay(id, ctl::operator_name(), audit));
    if (!replayed) {
        if (replayed.error() == store::error::not_found) {
            std::cerr << "billpayctl receipts replay: no message " << id << '\n';
        } else if (replayed.error() == store::error::conflict) {
            std::cerr << "billpayctl receipts replay: " << id
                      << "'s body was purged under retention (retention.receipt_body_days); it "
                         "cannot be sent again\n";
        } else {
            std::cerr << "billpayctl receipts replay: the database is unavailable ("
                      << store::to_string(replayed.error()) << ")\n";
        }
        return 1;
    }
    std::cout << "queued " << id << " for delivery again\n";
    return 0;
}

int run_hash_key() {
    std::string key;
    std::getline(std::cin, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) {
        key.pop_back();
    }
    if (key.size() < 32) {
        std::cerr << "billpayctl hash-key: an API key must be at least 32 characters "
                     "(e.g. `openssl rand -hex 32`)\n";
        return 1;
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    OPENSSL_cleanse(key.data(), key.size());
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned char b : digest) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
    }
    std::cout << out << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"billpayctl: operate billpayd and its records"};
    app.require_subcommand(1);
    std::string config_file;
    app.add_option("--config,-c", config_file, "billpayd's YAML config file");
    app.set_version_flag("--version", std::string("billpayctl ") + BILLPAY_VERSION);

    auto* migrate =
        app.add_subcommand("migrate", "apply the database migrations this build carries");
    auto* hash_key = app.add_subcommand("hash-key",
                                        "read an API key on stdin, print its sha256: line for the "
                                        "config's clients[].api_key_sha256");
    auto* receipts = app.add_subcommand("receipts", "messages to the correspondence system");
    receipts->require_subcommand(1);
    auto* receipts_list =
        receipts->add_subcommand("list", "list undelivered messages (or by status)");
    std::string receipt_status;
    int receipt_limit = 100;
    receipts_list->add_option("--status", receipt_status, "pending, failed, dead or delivered")
        ->check(CLI::IsMember({"pending", "failed", "dead", "delivered"}));
    receipts_list->add_option("--limit", receipt_limit, "at most this many (oldest first)");
    auto* receipts_replay =
        receipts->add_subcommand("replay", "queue a dead or delivered message again");
    std::string receipt_id;
    receipts_replay->add_option("ID", receipt_id, "the message id (rcpt_…)")->required();

    // Finance's tools (docs/finance.md).
    auto* refund = app.add_subcommand("refund", "refund all or part of a payment");
    ctl::refund_options refund_options;
    std::int64_t refund_amount = 0;
    refund->add_option("PAYMENT_ID", refund_options.payment_id, "the payment (pay_…)")->required();
    auto* amount_option = refund->add_option("--amount", refund_amount,
                                             "minor units (cents); without it, all that remains");
    amount_option->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000'000}));
    refund->add_option("--reason", refund_options.reason, "why (kept in the audit trail)")
        ->required();
    refund->add_option("--idempotency-key", refund_options.idempotency_key,
                       "run again with the same key, it never refunds twice");

    auto* settlements = app.add_subcommand("settlements", "what the processors settled");
    settlements->require_subcommand(1);
    auto* import = settlements->add_subcommand("import", "import a settlement report");
    ctl::import_options import_options;
    import
        ->add_option("--processor", import_options.processor,
                     "stripe, authorizenet, or the processor a generic file is from")
        ->required();
    import->add_option("--format", import_options.format, "stripe (default for stripe), generic")
        ->check(CLI::IsMember({"stripe", "generic"}));
    import->add_option("FILE", import_options.file, "the CSV file (not for authorizenet)");
    import->add_option("--from", import_options.from, "authorizenet: first settlement date");
    import->add_option("--to", import_options.to, "authorizenet: last settlement date");
    int import_last_days = 0;
    import->add_option("--last-days", import_last_days, "authorizenet: the N days before today")
        ->check(CLI::Range(1, 31));
    import->add_option("--reason", import_options.reason, "kept in the audit trail");

    auto* reconcile = app.add_subcommand(
        "reconcile", "match settlements to payments and refunds; exit 3 on exceptions");
    std::string from;
    std::string to;
    std::string today;
    int reconcile_last_days = 0;
    auto* reconcile_from = reconcile->add_option("--from", from, "first day (YYYY-MM-DD)");
    auto* reconcile_to = reconcile->add_option("--to", to, "last day (YYYY-MM-DD)");
    auto* reconcile_last = reconcile->add_option(
        "--last-days", reconcile_last_days, "the N days before today (the daily timer's choice)");
    reconcile_last->excludes(reconcile_from)->excludes(reconcile_to)->check(CLI::Range(1, 366));
    reconcile->add_option("--today", today, "judge \"not settled yet\" as of this day");

    auto* report = app.add_subcommand("report", "reports for finance staff");
    report->require_subcommand(1);
    auto* daily = report->add_subcommand("daily", "daily totals and reconciliation exceptions");
    std::string report_format = "csv";
    std::string output;
    daily->add_option("--from", from, "first day (YYYY-MM-DD)")->required();
    daily->add_option("--to", to, "last day (YYYY-MM-DD)")->required();
    daily->add_option("--format", report_format, "csv, json or html")
        ->check(CLI::IsMember({"csv", "json", "html"}));
    daily->add_option("--output,-o", output, "write here instead of standard output");
    auto* gl = report->add_subcommand("gl", "the day's general-ledger journal lines (CSV)");
    std::string gl_date;
    gl->add_option("--date", gl_date, "the day (YYYY-MM-DD)")->required();
    gl->add_option("--output,-o", output, "write here instead of standard output");

    auto* audit = app.add_subcommand("audit", "the audit trail of finance and operator actions");
    audit->require_subcommand(1);
    auto* audit_verify = audit->add_subcommand("verify", "check the hash chain; exit 1 if broken");
    auto* audit_list = audit->add_subcommand("list", "the newest rows");
    std::string audit_record;
    int audit_limit = 50;
    audit_list->add_option("--record", audit_record, "only rows naming this id");
    audit_list->add_option("--limit", audit_limit, "at most this many");
    auto* audit_checkpoint = audit->add_subcommand(
        "checkpoint", "sign every whole day of the chain not signed yet (daily timer)");

    // The privacy policy's tools (docs/privacy.md, docs/incident-response.md).
    auto* purge = app.add_subcommand("purge", "apply retention: reduce or delete old records");
    bool dry_run = false;
    purge->add_flag("--dry-run", dry_run, "count what would be purged; change nothing");
    auto* customer = app.add_subcommand("customer", "a customer's own data");
    customer->require_subcommand(1);
    auto* customer_export =
        customer->add_subcommand("export", "everything billpayd holds about one account (audited)");
    std::string account_number;
    std::string export_format = "json";
    std::string export_reason;
    customer_export->add_option("--account", account_number, "the account number")->required();
    customer_export->add_option("--format", export_format, "json (default) or csv")
        ->check(CLI::IsMember({"json", "csv"}));
    customer_export->add_option("--output,-o", output, "write here instead of standard output");
    customer_export->add_option("--reason", export_reason, "e.g. the customer's request number");
    auto* breach = app.add_subcommand("breach", "find and notify the customers a breach touched");
    breach->require_subcommand(1);
    auto* breach_scope = breach->add_subcommand(
        "scope", "accounts whose records were created, changed or read in a window (CSV)");
    bool accounts_from_audit = false;
    std::string incident_id;
    breach_scope->add_option("--from", from, "start of the window (RFC 3339 or date)")->required();
    breach_scope->add_option("--to", to, "end of the window, exclusive")->required();
    breach_scope->add_flag("--accounts-from-audit", accounts_from_audit,
                           "also accounts the audit trail names in the window (reads included)");
    breach_scope->add_option("--incident", incident_id, "the incident's id, for the audit trail");
    breach_scope->add_option("--output,-o", output, "write here instead of standard output");
    auto* breach_notify = breach->add_subcommand(
        "notify", "queue one breach_notice per affected email, once per incident");
    std::string accounts_file;
    std::string template_file;
    breach_notify->add_option("--incident", incident_id, "the incident's id")->required();
    breach_notify->add_option("--accounts", accounts_file, "breach scope's CSV")->required();
    breach_notify->add_option("--template", template_file, "the notice: subject line, then text")
        ->required();
    breach_notify->add_flag("--dry-run", dry_run, "count what would be queued; queue nothing");
    auto* processor = app.add_subcommand("processor", "records billpayd keeps at the processor");
    processor->require_subcommand(1);
    auto* purge_profiles = processor->add_subcommand(
        "purge-profiles", "delete customer records billpayd made that nothing uses any more");
    purge_profiles->add_flag("--dry-run", dry_run, "list what would be deleted; delete nothing");
    CLI11_PARSE(app, argc, argv);

    billpay::logging::init("warn");
    if (*hash_key) {
        return run_hash_key();
    }
    if (config_file.empty()) {
        std::cerr << "billpayctl: --config FILE is required for "
                  << app.get_subcommands()[0]->get_name() << '\n';
        return 2;
    }
    if (*migrate) {
        return run_migrate(config_file);
    }
    if (*receipts_list) {
        return run_receipts_list(config_file, receipt_status, receipt_limit);
    }
    if (*receipts_replay) {
        return run_receipts_replay(config_file, receipt_id);
    }
    auto settings = load_or_exit(config_file);
    if (*refund) {
        if (*amount_option) {
            refund_options.amount = refund_amount;
        }
        return ctl::refund(settings, refund_options);
    }
    if (*import) {
        if (import_last_days > 0) {
            std::tie(import_options.from, import_options.to) =
                ctl::last_days(settings, import_last_days);
        }
        return ctl::import_settlements(settings, import_options);
    }
    if (*reconcile) {
        if (reconcile_last_days > 0) {
            std::tie(from, to) = ctl::last_days(settings, reconcile_last_days);
        } else if (from.empty() || to.empty()) {
            std::cerr << "billpayctl reconcile: give --from and --to, or --last-days\n";
            return 2;
        }
        return ctl::reconcile(settings, from, to, today);
    }
    if (*daily) {
        return ctl::report_daily(settings, from, to, report_format, output);
    }
    if (*gl) {
        return ctl::report_gl(settings, gl_date, output);
    }
    if (*audit_verify) {
        return ctl::audit_verify(settings);
    }
    if (*audit_list) {
        return ctl::audit_list(settings, audit_record, audit_limit);
    }
    if (*audit_checkpoint) {
        return ctl::audit_checkpoint(settings);
    }
    if (*purge_profiles) {
        return ctl::purge_profiles(settings, dry_run);
    }
    if (*purge) {
        return ctl::purge(settings, dry_run);
    }
    if (*customer_export) {
        return ctl::customer_export(settings, account_number, export_format, output, export_reason);
    }
    if (*breach_scope) {
        return ctl::breach_scope(settings, from, to, accounts_from_audit, incident_id, output);
    }
    if (*breach_notify) {
        return ctl::breach_notify(settings, incident_id, accounts_file, template_file, dry_run);
    }
    return 2;
}
