#include "finance/settlement_files.hpp"

#include <map>
#include <optional>
#include <set>

#include "model/digest.hpp"
#include "model/money.hpp"

namespace billpay::finance {
namespace {

std::string upper(std::string text) {
    for (auto& c : text) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return text;
}

bool digits(std::string_view text, std::size_t from, std::size_t count) {
    if (text.size() < from + count) {
        return false;
    }
    for (std::size_t i = from; i < from + count; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
    }
    return true;
}

/// "2026-11-02", "2026-11-02 17:32:10" (Stripe's UTC form) or RFC 3339 in UTC, as RFC 3339.
std::optional<std::string> utc_time(const std::string& text) {
    bool date = digits(text, 0, 4) && text.size() >= 10 && text[4] == '-' && digits(text, 5, 2) &&
                text[7] == '-' && digits(text, 8, 2);
    if (!date) {
        return std::nullopt;
    }
    if (text.size() == 10) {
        return text + "T00:00:00Z";
    }
    bool time = text.size() >= 19 && (text[10] == ' ' || text[10] == 'T') && digits(text, 11, 2) &&
                text[13] == ':' && digits(text, 14, 2) && text[16] == ':' && digits(text, 17, 2);
    if (!time) {
        return std::nullopt;
    }
    std::string rest = text.substr(19);
    if (rest.empty() || rest == "Z" || rest == "+00:00") {
        return text.substr(0, 10) + "T" + text.substr(11, 8) + "Z";
    }
    return std::nullopt;
}

/// Column positions by header name.
class header {
  public:
    explicit header(const std::vector<std::string>& names) {
        for (std::size_t i = 0; i < names.size(); ++i) {
            index_[names[i]] = i;
        }
    }
    [[nodiscard]] bool has(const std::string& name) const { return index_.contains(name); }
    [[nodiscard]] std::string get(const csv_record& r, const std::string& name) const {
        auto it = index_.find(name);
        return it != index_.end() && it->second < r.fields.size() ? r.fields[it->second] : "";
    }
    [[nodiscard]] std::size_t size() const { return index_.size(); }

  private:
    std::map<std::string, std::size_t> index_;
};

/// Reads the amounts of a line, exactly, and checks net = gross - fee.
bool read_amounts(store::settlement_line& line, const std::string& gross, const std::string& fee,
                  const std::string& net, int line_no, std::vector<file_problem>& problems) {
    auto unit = model::currency::parse(line.currency);
    if (!unit) {
        problems.push_back({line_no, "currency \"" + line.currency + "\" is not an ISO 4217 code"});
        return false;
    }
    bool ok = true;
    auto amount = [&](const char* name, const std::string& text, std::int64_t& out) {
        auto value = model::parse_decimal(text, *unit);
        if (!value) {
            problems.push_back({line_no, std::string(name) + " \"" + text +
                                             "\" is not an amount in " + line.currency});
            ok = false;
            return;
        }
        out = *value;
    };
    amount("gross", gross, line.gross);
    amount("fee", fee, line.fee);
    amount("net", net, line.net);
    if (ok && line.gross - line.fee != line.net) {
        problems.push_back(
            {line_no, "net " + net + " is not gross " + gross + " minus fee " + fee});
        ok = false;
    }
    return ok;
}

}  // namespace

std::vector<csv_record> read_csv(std::string_view content, std::vector<file_problem>& problems) {
    if (content.starts_with("\xEF\xBB\xBF")) {
        content.remove_prefix(3);
    }
    std::vector<csv_record> records;
    csv_record current;
    std::string field;
    int line = 1;
    current.line = 1;
    bool quoted = false;
    bool field_started = false;
    auto end_field = [&] {
        current.fields.push_back(std::move(field));
        field.clear();
        field_started = false;
    };
    auto end_record = [&] {
        end_field();
        bool blank = current.fields.size() == 1 && current.fields[0].empty();
        if (!blank) {
            records.push_back(std::move(current));
        }
        current = csv_record{};
        current.line = line;
    };
    for (std::size_t i = 0; i < content.size(); ++i) {
        char c = content[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < content.size() && content[i + 1] == '"') {
                    field.push_back('"');
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                if (c == '\n') {
                    ++line;
                }
                field.push_back(c);
            }
            continue;
        }
        if (c == '"' && !field_started) {
            quoted = true;
            field_started = true;
        } else if (c == ',') {
            end_field();
        } else if (c == '\r' && i + 1 < content.size() && content[i + 1] == '\n') {
            continue;
        } else if (c == '\n') {
            ++line;
            end_record();
        } else if (c == '"') {
            problems.push_back({line, "a quote inside an unquoted field"});
            field.push_back(c);
        } else {
            field.push_back(c);
            field_started = true;
        }
    }
    if (quoted) {
        problems.push_back({current.line, "a quoted field is not closed"});
    }
    if (!field.empty() || !current.fields.empty()) {
        end_record();
    }
    return records;
}

parsed_settlements parse_stripe_itemized(std::string_view content) {
    parsed_settlements out;
    auto records = read_csv(content, out.problems);
    if (records.empty()) {
        out.problems.push_back({1, "the file is empty"});
        return out;
    }
    header h(records[0].fields);
    for (const char* required : {"balance_transaction_id", "created_utc", "currency", "gross",
                                 "fee", "net", "reporting_category"}) {
        if (!h.has(required)) {
            out.problems.push_back(
                {records[0].line,
                 std::string("the header has no ") + required +
                     " column: is this Stripe's itemized payout reconciliation report?"});
        }
    }
    if (!out.problems.empty()) {
        return out;
    }
    std::set<std::string> seen;
    for (std::size_t i = 1; i < records.size(); ++i) {
        const auto& r = records[i];
        if (r.fields.size() != h.size()) {
            out.problems.push_back({r.line, "has " + std::to_string(r.fields.size()) +
                                                " fields; the header has " +
                                                std::to_string(h.size())});
            continue;
        }
        store::settlement_line line;
        line.source_line = r.line;
        line.line_id = h.get(r, "balance_transaction_id");
        if (!line.line_id.starts_with("txn_")) {
            out.problems.push_back(
                {r.line, "balance_transaction_id \"" + line.line_id + "\" is not a txn_ id"});
            continue;
        }
        if (!seen.insert(line.line_id).second) {
            out.problems.push_back({r.line, line.line_id + " appears twice in the file"});
            continue;
        }
        // The day the money reached the bank when the line was paid out; else its booking.
        std::string when = h.get(r, "automatic_payout_effective_at_utc");
        if (when.empty()) {
            when = h.get(r, "automatic_payout_effective_at");
        }
        if (when.empty()) {
            when = h.get(r, "created_utc");
        }
        auto settled = utc_time(when);
        if (!settled) {
            out.problems.push_back({r.line, "\"" + when + "\" is not a UTC date and time"});
            continue;
        }
        line.settled_at = *settled;
        auto category = h.get(r, "reporting_category");
        static const std::map<std::string, std::string> kinds = {{"charge", "charge"},
                                                                 {"refund", "refund"},
                                                                 {"fee", "fee"},
                                                                 {"payout", "payout"},
                                                                 {"refund_failure", "adjustment"},
                                                                 {"adjustment", "adjustment"}};
        auto kind = kinds.find(category);
        line.kind = kind == kinds.end() ? "other" : kind->second;
        line.reference = h.get(r, "payment_intent_id");
        if (line.reference.empty()) {
            line.reference = h.get(r, "charge_id");
        }
        if (line.kind == "refund") {
            line.refund_reference = h.get(r, "source_id");
        }
        if ((line.kind == "charge" || line.kind == "refund") && line.reference.empty()) {
            out.problems.push_back(
                {r.line, "a " + line.kind + " without payment_intent_id or charge_id"});
            continue;
        }
        line.currency = upper(h.get(r, "currency"));
        line.payout_id = h.get(r, "automatic_payout_id");
        if (!read_amounts(line, h.get(r, "gross"), h.get(r, "fee"), h.get(r, "net"), r.line,
                          out.problems)) {
            continue;
        }
        out.lines.push_back(std::move(line));
    }
    if (out.lines.empty() && out.problems.empty()) {
        out.problems.push_back({records[0].line, "the file has a header and no lines"});
    }
    return out;
}

parsed_settlements parse_generic(std::string_view content) {
    parsed_settlements out;
    auto records = read_csv(content, out.problems);
    static const std::vector<std::string> columns = {
        "line_id",  "settled_at", "kind", "reference", "refund_reference",
        "currency", "gross",      "fee",  "net",       "payout_id"};
    if (records.empty() || records[0].fields != columns) {
        out.problems.push_back(
            {records.empty() ? 1 : records[0].line,
             "the header must be line_id,settled_at,kind,reference,refund_reference,currency,"
             "gross,fee,net,payout_id"});
        return out;
    }
    header h(records[0].fields);
    std::set<std::string> seen;
    static const std::set<std::string> kinds = {"charge", "refund",     "fee",
                                                "payout", "adjustment", "other"};
    for (std::size_t i = 1; i < records.size(); ++i) {
        const auto& r = records[i];
        if (r.fields.size() != columns.size()) {
            out.problems.push_back(
                {r.line, "has " + std::to_string(r.fields.size()) + " fields; the header has 10"});
            continue;
        }
        store::settlement_line line;
        line.source_line = r.line;
        line.line_id = h.get(r, "line_id");
        if (line.line_id.empty() || line.line_id.size() > 128) {
            out.problems.push_back({r.line, "line_id must be 1 to 128 characters"});
            continue;
        }
        if (!seen.insert(line.line_id).second) {
            out.problems.push_back({r.line, line.line_id + " appears twice in the file"});
            continue;
        }
        auto settled = utc_time(h.get(r, "settled_at"));
        if (!settled) {
            out.problems.push_back({r.line, "settled_at \"" + h.get(r, "settled_at") +
                                                "\" is not a UTC date or time"});
            continue;
        }
        line.settled_at = *settled;
        line.kind = h.get(r, "kind");
        if (!kinds.contains(line.kind)) {
            out.problems.push_back({r.line, "kind \"" + line.kind +
                                                "\" is not one of charge, refund, fee, payout, "
                                                "adjustment, other"});
            continue;
        }
        line.reference = h.get(r, "reference");
        line.refund_reference = h.get(r, "refund_reference");
        if ((line.kind == "charge" || line.kind == "refund") && line.reference.empty()) {
            out.problems.push_back({r.line, "a " + line.kind + " needs its reference"});
            continue;
        }
        line.currency = upper(h.get(r, "currency"));
        line.payout_id = h.get(r, "payout_id");
        if (!read_amounts(line, h.get(r, "gross"), h.get(r, "fee"), h.get(r, "net"), r.line,
                          out.problems)) {
            continue;
        }
        out.lines.push_back(std::move(line));
    }
    if (out.lines.empty() && out.problems.empty()) {
        out.problems.push_back({records[0].line, "the file has a header and no lines"});
    }
    return out;
}

std::string content_sha256(std::string_view content) { return model::sha256_hex(content); }

}  // namespace billpay::finance
