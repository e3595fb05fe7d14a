// billpayctl: the operators' and finance staff's command line. See docs/operations.md.
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>

#include "config/load.hpp"
#include "ctl/command_session.hpp"
#include "ctl/finance_commands.hpp"
#include "ctl/privacy_commands.hpp"
#include "ctl/schedule_commands.hpp"
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

/// What commands' options are read into; they live as long as the command's callback.
struct day_range {
    std::string from;
    std::string to;
    std::string today;
};
struct report_file {
    std::string from;  // the first day (gl: the day)
    std::string to;
    std::string format = "csv";
    std::string output;
};
struct export_request {
    std::string account;
    std::string format = "json";
    std::string output;
    std::string reason;
};
struct breach_window {
    std::string from;
    std::string to;
    std::string incident;
    std::string output;
};
struct breach_notice_files {
    std::string incident;
    std::string accounts;
    std::string form;  // the notice template
};

/// What the command line chose, once parsed: each subcommand's callback sets one of these.
struct chosen_command {
    std::function<int()> bare;                         // needs no config (hash-key)
    std::function<int(const std::string&)> with_file;  // loads the config itself
    std::function<int(const config::settings&)> with_settings;
};

/// migrate, hash-key, receipts list|replay.
void add_operations_commands(CLI::App& app, chosen_command& chosen) {
    app.add_subcommand("migrate", "apply the database migrations this build carries")
        ->callback([&chosen] { chosen.with_file = run_migrate; });
    app.add_subcommand("hash-key",
                       "read an API key on stdin, print its sha256: line for the config's "
                       "clients[].api_key_sha256")
        ->callback([&chosen] { chosen.bare = run_hash_key; });

    auto* receipts = app.add_subcommand("receipts", "messages to the correspondence system");
    receipts->require_subcommand(1);
    auto* list = receipts->add_subcommand("list", "list undelivered messages (or by status)");
    auto status = std::make_shared<std::string>();
    auto limit = std::make_shared<int>(100);
    list->add_option("--status", *status, "pending, failed, dead or delivered")
        ->check(CLI::IsMember({"pending", "failed", "dead", "delivered"}));
    list->add_option("--limit", *limit, "at most this many (oldest first)");
    list->callback([&chosen, status, limit] {
        chosen.with_file = [status, limit](const std::string& file) {
            return run_receipts_list(file, *status, *limit);
        };
    });
    auto* replay = receipts->add_subcommand("replay", "queue a dead or delivered message again");
    auto id = std::make_shared<std::string>();
    replay->add_option("ID", *id, "the message id (rcpt_…)")->required();
    replay->callback([&chosen, id] {
        chosen.with_file = [id](const std::string& file) { return run_receipts_replay(file, *id); };
    });
}

/// refund PAYMENT_ID --reason R [--amount N] [--idempotency-key K]
void add_refund_command(CLI::App& app, chosen_command& chosen) {
    auto* refund = app.add_subcommand("refund", "refund all or part of a payment");
    auto refunding = std::make_shared<ctl::refund_options>();
    auto amount = std::make_shared<std::int64_t>(0);
    refund->add_option("PAYMENT_ID", refunding->payment_id, "the payment (pay_…)")->required();
    auto* amount_option = refund->add_option("--amount", *amount,
                                             "minor units (cents); without it, all that remains");
    amount_option->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000'000}));
    refund->add_option("--reason", refunding->reason, "why (kept in the audit trail)")->required();
    refund->add_option("--idempotency-key", refunding->idempotency_key,
                       "run again with the same key, it never refunds twice");
    refund->callback([&chosen, refunding, amount, amount_option] {
        if (*amount_option) {
            refunding->amount = *amount;
        }
        chosen.with_settings = [refunding](const config::settings& s) {
            return ctl::refund(s, *refunding);
        };
    });
}

/// settlements import, reconcile.
void add_settlement_commands(CLI::App& app, chosen_command& chosen) {
    auto* settlements = app.add_subcommand("settlements", "what the processors settled");
    settlements->require_subcommand(1);
    auto* import_command = settlements->add_subcommand("import", "import a settlement report");
    auto importing = std::make_shared<ctl::import_options>();
    auto import_last_days = std::make_shared<int>(0);
    import_command
        ->add_option("--processor", importing->processor,
                     "stripe, authorizenet, or the processor a generic file is from")
        ->required();
    import_command
        ->add_option("--format", importing->format, "stripe (default for stripe), generic")
        ->check(CLI::IsMember({"stripe", "generic"}));
    import_command->add_option("FILE", importing->file, "the CSV file (not for authorizenet)");
    import_command->add_option("--from", importing->from, "authorizenet: first settlement date");
    import_command->add_option("--to", importing->to, "authorizenet: last settlement date");
    import_command
        ->add_option("--last-days", *import_last_days, "authorizenet: the N days before today")
        ->check(CLI::Range(1, 31));
    import_command->add_option("--reason", importing->reason, "kept in the audit trail");
    import_command->callback([&chosen, importing, import_last_days] {
        chosen.with_settings = [importing, import_last_days](const config::settings& s) {
            if (*import_last_days > 0) {
                std::tie(importing->from, importing->to) = ctl::last_days(s, *import_last_days);
            }
            return ctl::import_settlements(s, *importing);
        };
    });

    auto* reconcile = app.add_subcommand(
        "reconcile", "match settlements to payments and refunds; exit 3 on exceptions");
    auto days = std::make_shared<day_range>();
    auto last_days = std::make_shared<int>(0);
    auto* reconcile_from = reconcile->add_option("--from", days->from, "first day (YYYY-MM-DD)");
    auto* reconcile_to = reconcile->add_option("--to", days->to, "last day (YYYY-MM-DD)");
    reconcile
        ->add_option("--last-days", *last_days,
                     "the N days before today (the daily timer's choice)")
        ->excludes(reconcile_from)
        ->excludes(reconcile_to)
        ->check(CLI::Range(1, 366));
    reconcile->add_option("--today", days->today, "judge \"not settled yet\" as of this day");
    reconcile->callback([&chosen, days, last_days] {
        chosen.with_settings = [days, last_days](const config::settings& s) {
            if (*last_days > 0) {
                std::tie(days->from, days->to) = ctl::last_days(s, *last_days);
            } else if (days->from.empty() || days->to.empty()) {
                std::cerr << "billpayctl reconcile: give --from and --to, or --last-days\n";
                return 2;
            }
            return ctl::reconcile(s, days->from, days->to, days->today);
        };
    });
}

/// report daily, report gl.
void add_report_commands(CLI::App& app, chosen_command& chosen) {
    auto* report = app.add_subcommand("report", "reports for finance staff");
    report->require_subcommand(1);
    auto* daily = report->add_subcommand("daily", "daily totals and reconciliation exceptions");
    auto range = std::make_shared<report_file>();
    daily->add_option("--from", range->from, "first day (YYYY-MM-DD)")->required();
    daily->add_option("--to", range->to, "last day (YYYY-MM-DD)")->required();
    daily->add_option("--format", range->format, "csv, json or html")
        ->check(CLI::IsMember({"csv", "json", "html"}));
    daily->add_option("--output,-o", range->output, "write here instead of standard output");
    daily->callback([&chosen, range] {
        chosen.with_settings = [range](const config::settings& s) {
            return ctl::report_daily(s, range->from, range->to, range->format, range->output);
        };
    });
    auto* gl = report->add_subcommand("gl", "the day's general-ledger journal lines (CSV)");
    auto day = std::make_shared<report_file>();
    gl->add_option("--date", day->from, "the day (YYYY-MM-DD)")->required();
    gl->add_option("--output,-o", day->output, "write here instead of standard output");
    gl->callback([&chosen, day] {
        chosen.with_settings = [day](const config::settings& s) {
            return ctl::report_gl(s, day->from, day->output);
        };
    });
}

/// audit verify, list, checkpoint.
void add_audit_commands(CLI::App& app, chosen_command& chosen) {
    auto* audit = app.add_subcommand("audit", "the audit trail of finance and operator actions");
    audit->require_subcommand(1);
    audit->add_subcommand("verify", "check the hash chain; exit 1 if broken")->callback([&chosen] {
        chosen.with_settings = ctl::audit_verify;
    });
    auto* list = audit->add_subcommand("list", "the newest rows");
    auto record = std::make_shared<std::string>();
    auto limit = std::make_shared<int>(50);
    list->add_option("--record", *record, "only rows naming this id");
    list->add_option("--limit", *limit, "at most this many");
    list->callback([&chosen, record, limit] {
        chosen.with_settings = [record, limit](const config::settings& s) {
            return ctl::audit_list(s, *record, *limit);
        };
    });
    audit
        ->add_subcommand("checkpoint",
                         "sign every whole day of the chain not signed yet (daily timer)")
        ->callback([&chosen] { chosen.with_settings = ctl::audit_checkpoint; });
}

/// The privacy policy's tools (docs/privacy.md, docs/incident-response.md): purge, customer
/// export, breach scope|notify, processor purge-profiles.
void add_privacy_commands(CLI::App& app, chosen_command& chosen) {
    auto* purge = app.add_subcommand("purge", "apply retention: reduce or delete old records");
    auto purge_dry = std::make_shared<bool>(false);
    purge->add_flag("--dry-run", *purge_dry, "count what would be purged; change nothing");
    purge->callback([&chosen, purge_dry] {
        chosen.with_settings = [purge_dry](const config::settings& s) {
            return ctl::purge(s, *purge_dry);
        };
    });

    auto* customer = app.add_subcommand("customer", "a customer's own data");
    customer->require_subcommand(1);
    auto* exporting =
        customer->add_subcommand("export", "everything billpayd holds about one account (audited)");
    auto asked = std::make_shared<export_request>();
    exporting->add_option("--account", asked->account, "the account number")->required();
    exporting->add_option("--format", asked->format, "json (default) or csv")
        ->check(CLI::IsMember({"json", "csv"}));
    exporting->add_option("--output,-o", asked->output, "write here instead of standard output");
    exporting->add_option("--reason", asked->reason, "e.g. the customer's request number");
    exporting->callback([&chosen, asked] {
        chosen.with_settings = [asked](const config::settings& s) {
            return ctl::customer_export(s, asked->account, asked->format, asked->output,
                                        asked->reason);
        };
    });

    auto* breach = app.add_subcommand("breach", "find and notify the customers a breach touched");
    breach->require_subcommand(1);
    auto* scope = breach->add_subcommand(
        "scope", "accounts whose records were created, changed or read in a window (CSV)");
    auto window = std::make_shared<breach_window>();
    auto from_audit = std::make_shared<bool>(false);
    scope->add_option("--from", window->from, "start of the window (RFC 3339 or date)")->required();
    scope->add_option("--to", window->to, "end of the window, exclusive")->required();
    scope->add_flag("--accounts-from-audit", *from_audit,
                    "also accounts the audit trail names in the window (reads included)");
    scope->add_option("--incident", window->incident, "the incident's id, for the audit trail");
    scope->add_option("--output,-o", window->output, "write here instead of standard output");
    scope->callback([&chosen, window, from_audit] {
        chosen.with_settings = [window, from_audit](const config::settings& s) {
            return ctl::breach_scope(s, window->from, window->to, *from_audit, window->incident,
                                     window->output);
        };
    });
    auto* notify = breach->add_subcommand(
        "notify", "queue one breach_notice per affected email, once per incident");
    auto notice = std::make_shared<breach_notice_files>();
    auto notify_dry = std::make_shared<bool>(false);
    notify->add_option("--incident", notice->incident, "the incident's id")->required();
    notify->add_option("--accounts", notice->accounts, "breach scope's CSV")->required();
    notify->add_option("--template", notice->form, "the notice: subject line, then text")
        ->required();
    notify->add_flag("--dry-run", *notify_dry, "count what would be queued; queue nothing");
    notify->callback([&chosen, notice, notify_dry] {
        chosen.with_settings = [notice, notify_dry](const config::settings& s) {
            return ctl::breach_notify(s, notice->incident, notice->accounts, notice->form,
                                      *notify_dry);
        };
    });

    auto* processor = app.add_subcommand("processor", "records billpayd keeps at the processor");
    processor->require_subcommand(1);
    auto* profiles = processor->add_subcommand(
        "purge-profiles", "delete customer records billpayd made that nothing uses any more");
    auto profiles_dry = std::make_shared<bool>(false);
    profiles->add_flag("--dry-run", *profiles_dry, "list what would be deleted; delete nothing");
    profiles->callback([&chosen, profiles_dry] {
        chosen.with_settings = [profiles_dry](const config::settings& s) {
            return ctl::purge_profiles(s, *profiles_dry);
        };
    });
}

/// schedule run [--date D] [--parallel N] [--batch N] [--lease SECONDS]
void add_schedule_commands(CLI::App& app, chosen_command& chosen) {
    auto* schedule = app.add_subcommand("schedule", "scheduled payments and AutoPay");
    schedule->require_subcommand(1);
    auto* run = schedule->add_subcommand(
        "run", "charge what is due on the day: scheduled payments and AutoPay's bills");
    auto options = std::make_shared<ctl::schedule_run_options>();
    run->add_option("--date", options->date,
                    "the utility's day to charge (YYYY-MM-DD; default today in "
                    "payments.time_zone)");
    run->add_option("--parallel", options->parallel, "charges in flight at once")
        ->check(CLI::Range(1, 64));
    run->add_option("--batch", options->batch,
                    "items claimed at a time (their ends are written in one commit)")
        ->check(CLI::Range(1, 10000));
    run->add_option("--lease", options->lease_seconds,
                    "seconds a claimed item stays this run's without news from it")
        ->check(CLI::Range(1, 86400));
    run->callback([&chosen, options] {
        chosen.with_settings = [options](const config::settings& s) {
            return ctl::schedule_run(s, *options);
        };
    });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"billpayctl: operate billpayd and its records"};
    app.require_subcommand(1);
    std::string config_file;
    app.add_option("--config,-c", config_file, "billpayd's YAML config file");
    app.set_version_flag("--version", std::string("billpayctl ") + BILLPAY_VERSION);
    chosen_command chosen;
    add_operations_commands(app, chosen);
    // Finance's tools (docs/finance.md), and the audit trail's.
    add_refund_command(app, chosen);
    add_settlement_commands(app, chosen);
    add_report_commands(app, chosen);
    add_audit_commands(app, chosen);
    add_privacy_commands(app, chosen);
    add_schedule_commands(app, chosen);
    CLI11_PARSE(app, argc, argv);

    billpay::logging::init("warn");
    if (chosen.bare) {
        return chosen.bare();
    }
    if (config_file.empty()) {
        std::cerr << "billpayctl: --config FILE is required for "
                  << app.get_subcommands()[0]->get_name() << '\n';
        return 2;
    }
    if (chosen.with_file) {
        return chosen.with_file(config_file);
    }
    if (!chosen.with_settings) {
        return 2;
    }
    return chosen.with_settings(load_or_exit(config_file));
}
