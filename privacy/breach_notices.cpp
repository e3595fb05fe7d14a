#include "privacy/breach_notices.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <chrono>
#include <map>
#include <sstream>

#include "model/ids.hpp"
#include "model/text.hpp"
#include "model/time.hpp"

namespace billpay::privacy {
namespace {

namespace json = boost::json;

std::string lowered(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    while (!text.empty() && text.front() == ' ') {
        text.erase(text.begin());
    }
    return text;
}

/// An address as the API takes it: one @, something on both sides, no spaces or controls.
bool looks_like_email(const std::string& email) {
    const auto at = email.find('@');
    return email.size() <= 254 && at != std::string::npos && at > 0 && at + 1 < email.size() &&
           email.find('@', at + 1) == std::string::npos &&
           email.find_first_of(" \t,;\"<>") == std::string::npos && model::is_plain_text(email);
}

/// An account number as billpayd takes it anywhere: 1-32 of A-Z a-z 0-9 and '-'.
bool valid_account_number(const std::string& text) {
    return !text.empty() && text.size() <= 32 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
    });
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

}  // namespace

std::string scope_csv(const std::vector<store::affected_account>& accounts) {
    std::string out = "account_number,email\n";
    for (const auto& a : accounts) {
        out += model::csv_field(a.account_number) + "," + model::csv_field(a.email) + "\n";
    }
    return out;
}

std::optional<std::vector<recipient>> read_recipients(const std::string& csv,
                                                      std::string& problem) {
    std::vector<recipient> out;
    std::istringstream in(csv);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        line = trimmed(line);
        if (line.empty() || (number == 1 && line.rfind("account_number,", 0) == 0)) {
            continue;
        }
        const auto comma = line.find(',');
        if (comma == std::string::npos || line.find(',', comma + 1) != std::string::npos) {
            problem = "line " + std::to_string(number) + ": expected account_number,email";
            return std::nullopt;
        }
        recipient r{trimmed(line.substr(0, comma)), trimmed(line.substr(comma + 1))};
        if (r.account_number.starts_with('\'')) {
            r.account_number.erase(0, 1);  // csv_field's guard against spreadsheet formulas
        }
        if (r.email.empty()) {
            continue;  // retention removed it: no one to write to
        }
        if (!looks_like_email(r.email) || !valid_account_number(r.account_number)) {
            problem = "line " + std::to_string(number) + ": not an account number and an email";
            return std::nullopt;
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<notice_template> read_template(const std::string& text, std::string& problem) {
    // Line ends become spaces, not nothing: removing a \r could join the halves of a broken
    // UTF-8 sequence into a valid one (the fuzzer found it), and the JSON would carry the break.
    if (!model::is_plain_text(replace_all(replace_all(text, "\n", " "), "\r", " "))) {
        problem = "the template must be plain UTF-8 text";
        return std::nullopt;
    }
    std::string rest =
        replace_all(replace_all(text, "{{account_numbers}}", ""), "{{incident_id}}", "");
    if (rest.find("{{") != std::string::npos) {
        problem =
            "the template names a placeholder other than {{account_numbers}} and "
            "{{incident_id}}";
        return std::nullopt;
    }
    const auto newline = text.find('\n');
    notice_template form;
    form.subject = trimmed(text.substr(0, newline));
    form.text = newline == std::string::npos ? "" : text.substr(newline + 1);
    if (form.subject.empty() || trimmed(form.text).empty()) {
        problem = "the template's first line is the subject, the lines after it the text";
        return std::nullopt;
    }
    return form;
}

std::vector<store::breach_notice> render_notices(const std::string& incident_id,
                                                 const std::vector<recipient>& recipients,
                                                 const notice_template& form) {
    // One notice per address, naming every account it is the email of.
    std::map<std::string, std::pair<std::string, std::vector<std::string>>> by_address;
    for (const auto& r : recipients) {
        auto& [email, accounts] = by_address[lowered(r.email)];
        if (email.empty()) {
            email = r.email;
        }
        if (std::find(accounts.begin(), accounts.end(), r.account_number) == accounts.end()) {
            accounts.push_back(r.account_number);
        }
    }
    std::vector<store::breach_notice> out;
    for (const auto& [key, entry] : by_address) {
        const auto& [email, accounts] = entry;
        std::string joined;
        json::array account_numbers;
        for (const auto& a : accounts) {
            joined += (joined.empty() ? "" : ", ") + a;
            account_numbers.emplace_back(a);
        }
        auto fill = [&](const std::string& text) {
            return replace_all(replace_all(text, "{{account_numbers}}", joined), "{{incident_id}}",
                               incident_id);
        };
        auto id = model::new_id("rcpt");
        json::object message{
            {"id", id},
            {"type", "breach_notice"},
            {"created_at", model::rfc3339_utc(std::chrono::system_clock::now())},
            {"incident_id", incident_id},
            {"account_numbers", std::move(account_numbers)},
            {"customer", json::object{{"email", email}}},
            {"notice", json::object{{"subject", fill(form.subject)}, {"text", fill(form.text)}}}};
        out.push_back({email, id, json::serialize(message)});
    }
    return out;
}

}  // namespace billpay::privacy
