#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/privacy.hpp"

namespace billpay::privacy {

/// The affected accounts as `billpayctl breach scope` writes them: CSV with a header,
/// account_number,email (an account whose email retention removed has an empty email).
std::string scope_csv(const std::vector<store::affected_account>& accounts);

/// One affected customer, read back from that CSV (or a list staff edited).
struct recipient {
    std::string account_number;
    std::string email;
};

/// Reads `account_number,email` rows (a header line is skipped; rows without an email are
/// skipped). Returns nullopt with `problem` set when a line is not two fields or an email is not
/// an address.
std::optional<std::vector<recipient>> read_recipients(const std::string& csv, std::string& problem);

/// A notice's template: plain text, in which {{account_numbers}} (the recipient's accounts,
/// comma-separated) and {{incident_id}} are replaced; the first line is the subject. Returns
/// nullopt with `problem` set when it is empty, not plain text, or names another placeholder.
struct notice_template {
    std::string subject;
    std::string text;
};
std::optional<notice_template> read_template(const std::string& text, std::string& problem);

/// The breach_notice messages: one per address (compared lower-cased), naming every affected
/// account it is the email of (docs/correspondence.md):
/// {"id": "rcpt_…", "type": "breach_notice", "created_at", "incident_id", "account_numbers",
///  "customer": {"email"}, "notice": {"subject", "text"}}
std::vector<store::breach_notice> render_notices(const std::string& incident_id,
                                                 const std::vector<recipient>& recipients,
                                                 const notice_template& form);

}  // namespace billpay::privacy
