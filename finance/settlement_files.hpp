#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/settlements.hpp"

namespace billpay::finance {

/// A line of a settlement file that cannot be imported, by its line number in the file.
struct file_problem {
    int line = 0;
    std::string message;
};

struct parsed_settlements {
    std::vector<store::settlement_line> lines;
    std::vector<file_problem> problems;  // any: the whole file is refused
};

/// RFC 4180 CSV: fields separated by commas, quoted fields with "" for a quote and line breaks
/// inside, CRLF or LF, a UTF-8 byte-order mark dropped. Each record with the line it starts on.
struct csv_record {
    int line = 0;
    std::vector<std::string> fields;
};
std::vector<csv_record> read_csv(std::string_view content, std::vector<file_problem>& problems);

/// Stripe's itemized payout reconciliation report (payout_reconciliation.itemized), read by its
/// header: balance_transaction_id, created_utc, currency, gross, fee, net, reporting_category
/// are required; payment_intent_id, charge_id, source_id, automatic_payout_id,
/// automatic_payout_effective_at(_utc) are read when present. Amounts are decimal major units,
/// converted exactly. docs/finance.md says how each column is used.
parsed_settlements parse_stripe_itemized(std::string_view content);

/// billpayd's generic settlement CSV for any other processor (docs/finance.md):
/// line_id,settled_at,kind,reference,refund_reference,currency,gross,fee,net,payout_id
parsed_settlements parse_generic(std::string_view content);

/// Hex SHA-256 of the content: an import's key.
std::string content_sha256(std::string_view content);

}  // namespace billpay::finance
