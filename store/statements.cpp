#include "store/statements.hpp"

#include <map>
#include <string_view>

#include "store/rows.hpp"

namespace billpay::store::statements {

namespace {

/// Each statement's text, by name.
const std::map<std::string_view, std::string>& definitions() {
    static const std::map<std::string_view, std::string> all = {
        {claim_key,
         "SELECT status, response_status, response_body"
         " FROM billpay_claim_key($1, $2, $3, $4, $5, $6::bigint, $7)"},
        {open_payment,
         "SELECT status, existing_payment FROM billpay_open($1, $2, $3, $4, $5::bigint, $6,"
         " $7, $8, $9, $10::int, $11::int, $12, $13, $14, $15, $16::boolean, $17, $18,"
         " $19::jsonb, $20::timestamptz, $21, $22, $23::bigint, $24, $25::int)"},
        {finish_payment,
         "SELECT billpay_finish($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::int, $9, $10, $11,"
         " $12)"},
        {find_payment, std::string("SELECT ") + payment_columns + " FROM payments WHERE id = $1"},
        {find_payment_method, std::string("SELECT ") + method_columns +
                                  " FROM payment_methods WHERE id = $1 AND deleted_at IS NULL"},
        {claim_messages,
         "UPDATE outbox_messages SET attempts = attempts + 1,"
         "  locked_until = now() + $2::bigint * interval '1 millisecond'"
         " WHERE id IN (SELECT id FROM outbox_messages WHERE status = 'pending'"
         "   AND next_attempt_at <= now()"
         "   AND coalesce(locked_until, '-infinity') < now()"
         "   ORDER BY next_attempt_at LIMIT $1::int FOR UPDATE SKIP LOCKED)"
         " RETURNING id, type, coalesce(payment_id, ''), body, status, attempts,"
         " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
         " last_error, last_http_status, extract(epoch FROM now() - created_at)::float8"},
        {record_attempts,
         "SELECT billpay_record_attempts($1::text[], $2::text[], $3::int[], $4::text[],"
         " $5::bigint[], $6)"},
    };
    return all;
}

}  // namespace

const char* prepared(pqxx::connection& conn, const char* name) {
    // libpqxx keeps the definitions per connection: the same definition again is a lookup.
    conn.prepare(name, definitions().at(name));
    return name;
}

std::string text_array(const std::vector<std::string>& items) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += i == 0 ? "\"" : ",\"";
        for (char c : items[i]) {
            if (c == '"' || c == '\\') {
                out.push_back('\\');
            }
            out.push_back(c);
        }
        out.push_back('"');
    }
    out.push_back('}');
    return out;
}

std::string integer_array(const std::vector<long long>& items, bool negative_is_null) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out.push_back(',');
        }
        out += negative_is_null && items[i] < 0 ? "NULL" : std::to_string(items[i]);
    }
    out.push_back('}');
    return out;
}

}  // namespace billpay::store::statements
