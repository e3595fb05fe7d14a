#include "ctl/privacy_commands.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>
#include <thread>

#include "ctl/command_session.hpp"
#include "gateway_adapters/make_gateway.hpp"
#include "model/digest.hpp"
#include "model/time.hpp"
#include "privacy/breach_notices.hpp"
#include "privacy/customer_export.hpp"
#include "privacy/processor_profiles.hpp"
#include "store/audit.hpp"
#include "store/privacy.hpp"

namespace billpay::ctl {
namespace {

namespace json = boost::json;

int unavailable(const char* command, store::error e) {
    std::cerr << "billpayctl " << command << ": the database is unavailable ("
              << store::to_string(e) << ")\n";
    return 1;
}

json::object counts_json(const store::purge_counts& c) {
    return json::object{{"payments_reduced", c.payments_reduced},
                        {"refunds_reduced", c.refunds_reduced},
                        {"idempotency_keys_deleted", c.idempotency_keys_deleted},
                        {"receipt_bodies_deleted", c.receipt_bodies_deleted},
                        {"payment_methods_reduced", c.payment_methods_reduced},
                        {"account_contacts_deleted", c.account_contacts_deleted},
                        {"bills_deleted", c.bills_deleted},
                        {"scheduled_payments_reduced", c.scheduled_payments_reduced}};
}

void print_counts(const char* verb, const store::purge_counts& c) {
    std::printf("%-28s %12s\n", "RECORDS", verb);
    for (const auto& [name, value] : counts_json(c)) {
        std::printf("%-28s %12lld\n", std::string(name).c_str(),
                    static_cast<long long>(value.as_int64()));
    }
}

store::purge_counts& operator+=(store::purge_counts& a, const store::purge_counts& b) {
    a.payments_reduced += b.payments_reduced;
    a.refunds_reduced += b.refunds_reduced;
    a.idempotency_keys_deleted += b.idempotency_keys_deleted;
    a.receipt_bodies_deleted += b.receipt_bodies_deleted;
    a.payment_methods_reduced += b.payment_methods_reduced;
    a.account_contacts_deleted += b.account_contacts_deleted;
    a.bills_deleted += b.bills_deleted;
    a.scheduled_payments_reduced += b.scheduled_payments_reduced;
    return a;
}

/// The UTC day `days_ago` days before today, YYYY-MM-DD.
std::string utc_day(int days_ago) {
    using namespace std::chrono;
    const year_month_day d{floor<days>(system_clock::now()) - days(days_ago)};
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    return text;
}

/// The day after `day` (YYYY-MM-DD), for checking that checkpoints follow one another.
std::string next_day(const std::string& day) {
    using namespace std::chrono;
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    if (std::sscanf(day.c_str(), "%d-%u-%u", &y, &m, &d) != 3) {
        return "";
    }
    const year_month_day next{sys_days(year{y} / month{m} / d) + days(1)};
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(next.year()),
                  static_cast<unsigned>(next.month()), static_cast<unsigned>(next.day()));
    return text;
}

/// An incident id names the incident in the audit trail and in every notice: 1-64 letters,
/// digits, '.', '_' or '-'.
bool valid_incident(const std::string& id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

}  // namespace

int purge(const config::settings& settings, bool dry_run) {
    command_session session(settings);
    store::privacy_records records(session.database());
    const store::retention_policy& policy = settings.retention;
    if (dry_run) {
        auto counts = session.wait(records.count_purgeable(policy));
        if (!counts) {
            return unavailable("purge", counts.error());
        }
        print_counts("WOULD PURGE", *counts);
        std::printf("dry run: nothing was changed\n");
        return 0;
    }
    store::purge_counts total;
    for (;;) {
        auto batch = session.wait(records.purge_batch(policy));
        if (!batch) {
            // Whole batches committed stay purged; running again resumes.
            print_counts("PURGED", total);
            return unavailable("purge", batch.error());
        }
        total += *batch;
        if (batch->total() == 0) {
            break;
        }
    }
    auto details = counts_json(total);
    details["payment_days"] = policy.payment_days;
    details["idempotency_key_days"] = policy.idempotency_key_days;
    details["receipt_body_days"] = policy.receipt_body_days;
    auto audited = session.wait(records.audit(by_operator("retention.purged", "", "", details)));
    print_counts("PURGED", total);
    if (!audited) {
        return unavailable("purge (its audit row)", audited.error());
    }
    return 0;
}

int customer_export(const config::settings& settings, const std::string& account_number,
                    const std::string& format, const std::string& output,
                    const std::string& reason) {
    command_session session(settings);
    store::privacy_records records(session.database());
    auto data = session.wait(records.export_account(
        account_number, by_operator("customer.exported", account_number, reason,
                                    json::object{{"format", format}})));
    if (!data) {
        if (data.error() == store::error::not_found) {
            std::cerr << "billpayctl customer export: billpayd holds nothing about account "
                      << account_number << '\n';
            return 1;
        }
        return unavailable("customer export", data.error());
    }
    const auto now = model::rfc3339_utc(std::chrono::system_clock::now());
    return write_output(output, format == "csv"
                                    ? privacy::export_csv(*data, now)
                                    : json::serialize(privacy::export_json(*data, now)) + "\n");
}

int breach_scope(const config::settings& settings, const std::string& from, const std::string& to,
                 bool from_audit, const std::string& incident_id, const std::string& output) {
    if (!incident_id.empty() && !valid_incident(incident_id)) {
        std::cerr << "billpayctl breach scope: --incident must be 1-64 letters, digits, '.', '_' "
                     "or '-'\n";
        return 2;
    }
    command_session session(settings);
    store::privacy_records records(session.database());
    json::object details{{"from", from}, {"to", to}, {"accounts_from_audit", from_audit}};
    auto accounts = session.wait(records.breach_scope(
        from, to, from_audit, by_operator("breach.scoped", incident_id, "", details)));
    if (!accounts) {
        if (accounts.error() == store::error::invalid_argument) {
            std::cerr << "billpayctl breach scope: --from and --to must be times PostgreSQL "
                         "reads (2026-11-30T00:00:00Z, or a date)\n";
            return 2;
        }
        return unavailable("breach scope", accounts.error());
    }
    std::cerr << accounts->size() << " accounts touched from " << from << " to " << to << '\n';
    return write_output(output, privacy::scope_csv(*accounts));
}

int breach_notify(const config::settings& settings, const std::string& incident_id,
                  const std::string& accounts_file, const std::string& template_file,
                  bool dry_run) {
    if (!valid_incident(incident_id)) {
        std::cerr << "billpayctl breach notify: --incident must be 1-64 letters, digits, '.', '_' "
                     "or '-'\n";
        return 2;
    }
    auto accounts_csv = read_file(accounts_file);
    auto template_text = read_file(template_file);
    if (!accounts_csv || !template_text) {
        std::cerr << "billpayctl breach notify: cannot read "
                  << (!accounts_csv ? accounts_file : template_file) << '\n';
        return 2;
    }
    std::string problem;
    auto recipients = privacy::read_recipients(*accounts_csv, problem);
    if (!recipients) {
        std::cerr << "billpayctl breach notify: " << accounts_file << ": " << problem << '\n';
        return 2;
    }
    auto form = privacy::read_template(*template_text, problem);
    if (!form) {
        std::cerr << "billpayctl breach notify: " << template_file << ": " << problem << '\n';
        return 2;
    }
    auto notices = privacy::render_notices(incident_id, *recipients, *form);
    command_session session(settings);
    store::privacy_records records(session.database());
    const auto addresses = static_cast<std::int64_t>(notices.size());
    auto queued = session.wait(records.queue_breach_notices(
        incident_id, std::move(notices), dry_run,
        by_operator("breach.notified", incident_id, "",
                    json::object{{"addresses", addresses},
                                 {"accounts", static_cast<std::int64_t>(recipients->size())}})));
    if (!queued) {
        return unavailable("breach notify", queued.error());
    }
    std::printf(
        "%s %lld breach_notice messages for incident %s (%lld addresses; %lld already "
        "queued before)\n",
        dry_run ? "would queue" : "queued", static_cast<long long>(*queued), incident_id.c_str(),
        static_cast<long long>(addresses), static_cast<long long>(addresses - *queued));
    if (dry_run) {
        std::printf("dry run: nothing was queued\n");
    }
    return 0;
}

int purge_profiles(const config::settings& settings, bool dry_run) {
    if (!has_processor_credentials(settings, "processor purge-profiles", "nothing was deleted")) {
        return 2;
    }
    command_session session(settings);
    store::privacy_records records(session.database());
    auto processor =
        gateway::make_gateway(settings.gateway.processor, session.io_context().get_executor());
    const privacy::purge_options options{dry_run, config::charge_window(settings.gateway),
                                         settings.gateway.timeout};
    const model::actor by{operator_name(), operator_source()};
    auto report = session.wait(privacy::purge_processor_profiles(*processor, records, options, by));
    if (report.not_listed) {
        std::cerr << "billpayctl processor purge-profiles: the processor's list is not available ("
                  << *report.not_listed << "); nothing was deleted\n";
        return 1;
    }
    if (report.in_use_unknown) {
        return unavailable("processor purge-profiles", *report.in_use_unknown);
    }
    for (const auto& id : report.deleted) {
        if (dry_run) {
            std::printf("would delete customer record %s (if billpayd made it)\n", id.c_str());
        } else {
            std::printf("deleted customer record %s\n", id.c_str());
        }
    }
    for (const auto& [id, message] : report.failed) {
        std::fprintf(stderr, "customer record %s not deleted: %s\n", id.c_str(), message.c_str());
    }
    std::printf(
        "%s %zu of %zu customer records at %s; %lld in use; %lld not billpayd's or "
        "gone; %zu failed\n",
        dry_run ? "would delete" : "deleted", report.deleted.size(), report.listed,
        report.processor.c_str(), static_cast<long long>(report.in_use),
        static_cast<long long>(report.foreign), report.failed.size());
    if (report.audit_failure) {
        return unavailable("processor purge-profiles (its audit row)", *report.audit_failure);
    }
    return report.failed.empty() ? 0 : 1;
}

int audit_checkpoint(const config::settings& settings) {
    const auto& key = settings.audit.checkpoint_key;
    if (key.empty()) {
        std::cerr << "billpayctl audit checkpoint: audit.checkpoint_key_file is not available "
                     "here (billpayd-purge.service loads it); nothing was signed\n";
        return 2;
    }
    command_session session(settings);
    store::audit_trail audit(session.database());
    auto days = session.wait(audit.days_to_checkpoint());
    if (!days) {
        return unavailable("audit checkpoint", days.error());
    }
    for (auto& day : *days) {
        day.signature = model::hmac_sha256_hex(key.reveal(), store::checkpoint_message(day));
    }
    auto added = session.wait(audit.add_checkpoints(*days));
    if (!added) {
        return unavailable("audit checkpoint", added.error());
    }
    // Printed too, so that the journal keeps a copy outside the database.
    for (const auto& day : *days) {
        std::printf("signed %s: through row %lld (%lld rows), hash %s, signature %s\n",
                    day.day.c_str(), static_cast<long long>(day.last_id),
                    static_cast<long long>(day.rows_through), day.last_hash.c_str(),
                    day.signature.c_str());
    }
    if (days->empty()) {
        std::printf("every whole day is signed already\n");
    }
    return 0;
}

int audit_verify(const config::settings& settings) {
    command_session session(settings);
    store::audit_trail audit(session.database());
    auto check = session.wait(audit.verify());
    if (!check) {
        return unavailable("audit verify", check.error());
    }
    if (check->broken) {
        std::printf("audit trail BROKEN at row %lld: %s\n",
                    static_cast<long long>(check->broken->row_id), check->broken->problem.c_str());
        return 1;
    }
    std::printf("hash chain intact: %lld rows, each row's hash and link recomputed; last hash %s\n",
                static_cast<long long>(check->rows), check->last_hash.c_str());

    auto checkpoints = session.wait(audit.checkpoints());
    if (!checkpoints) {
        return unavailable("audit verify", checkpoints.error());
    }
    const auto& key = settings.audit.checkpoint_key;
    int failures = 0;
    std::string expected_day;
    for (const auto& c : *checkpoints) {
        if (!expected_day.empty() && c.day != expected_day) {
            std::printf("checkpoints MISSING from %s to the day before %s\n", expected_day.c_str(),
                        c.day.c_str());
            ++failures;
        }
        expected_day = next_day(c.day);
        if (!key.empty() &&
            !model::equal_in_constant_time(
                c.signature, model::hmac_sha256_hex(key.reveal(), store::checkpoint_message(c)))) {
            std::printf("checkpoint of %s FORGED or altered: its signature does not match\n",
                        c.day.c_str());
            ++failures;
            continue;
        }
        auto state = session.wait(audit.state_at(c.last_id));
        if (!state) {
            return unavailable("audit verify", state.error());
        }
        if (state->hash != c.last_hash || state->rows_through != c.rows_through) {
            std::printf(
                "audit trail CUT SHORT or rebuilt: the checkpoint of %s names row %lld "
                "(%lld rows up to it, hash %s); the log holds %s (%lld rows up to it)\n",
                c.day.c_str(), static_cast<long long>(c.last_id),
                static_cast<long long>(c.rows_through), c.last_hash.c_str(),
                state->hash.empty() ? "no such row" : ("hash " + state->hash).c_str(),
                static_cast<long long>(state->rows_through));
            ++failures;
        }
    }
    const int max_age = settings.audit.checkpoint_max_age_days;
    const std::string oldest_allowed = utc_day(max_age);
    const std::string newest = checkpoints->empty() ? "" : checkpoints->back().day;
    std::printf("checkpoints: %zu signed days%s%s; signatures %s\n", checkpoints->size(),
                newest.empty() ? "" : ", newest ", newest.c_str(),
                key.empty() ? "NOT checked (audit.checkpoint_key_file is not available here)"
                            : "checked with audit.checkpoint_key_file");
    auto unsigned_days = session.wait(audit.days_to_checkpoint());
    if (!unsigned_days) {
        return unavailable("audit verify", unsigned_days.error());
    }
    if (!unsigned_days->empty() && unsigned_days->front().day < oldest_allowed) {
        std::printf(
            "checkpoints STALE: %s and later are not signed (allowed: %d days); rows "
            "after the newest checkpoint could have been cut unnoticed. Run `billpayctl "
            "audit checkpoint` (billpayd-purge.timer does, daily)\n",
            unsigned_days->front().day.c_str(), max_age);
        ++failures;
    }
    if (failures > 0) {
        return 1;
    }
    std::printf("audit trail intact%s\n", newest.empty()
                                              ? " (no whole day to sign yet)"
                                              : (" and complete through " + newest).c_str());
    return 0;
}

}  // namespace billpay::ctl
