#pragma once

#include <string>

#include "config/settings.hpp"

namespace billpay::ctl {

// The privacy policy's commands (docs/privacy.md, docs/incident-response.md). Each returns the
// process's exit code: 0 done, 1 refused or failed (the reason on stderr), 2 a usage problem.
// Every one is in the audit trail as "billpayctl:<user>" from "host:<name>", except a dry run,
// which changes nothing.

/// Applies `retention:` in batches until nothing is left to purge; one retention.purged audit
/// row with the counts. With `dry_run`, prints what it would change.
int purge(const config::settings& settings, bool dry_run);

/// Everything billpayd holds about one account, as JSON or CSV; audited as customer.exported.
int customer_export(const config::settings& settings, const std::string& account_number,
                    const std::string& format, const std::string& output,
                    const std::string& reason);

/// The accounts whose records were created, changed (or, with `from_audit`, read) in
/// [from, to), with their current emails, as CSV; audited as breach.scoped.
int breach_scope(const config::settings& settings, const std::string& from, const std::string& to,
                 bool from_audit, const std::string& incident_id, const std::string& output);

/// Queues one breach_notice per affected address through the outbox, at most once per incident
/// and address; audited as breach.notified.
int breach_notify(const config::settings& settings, const std::string& incident_id,
                  const std::string& accounts_file, const std::string& template_file, bool dry_run);

/// Deletes the processor's customer records billpayd made that no token in use names (one-off
/// Authorize.Net profiles left from before billpayd deleted them itself, accounts whose saved
/// cards are all gone). Lists them, waits out the charge window (a request may be between
/// making its token and recording it), then reads what is in use. Audited as
/// processor.profiles_purged.
int purge_profiles(const config::settings& settings, bool dry_run);

/// Signs every whole day of the audit chain not signed yet (audit.checkpoint_key_file).
int audit_checkpoint(const config::settings& settings);

/// Checks the hash chain, then every signed checkpoint against it (truncation), their
/// continuity and the newest one's age; says what it checked. Exit 1 when anything fails.
int audit_verify(const config::settings& settings);

}  // namespace billpay::ctl
