// libFuzzer: what staff hand `billpayctl breach notify` (privacy/breach_notices.hpp). The input
// is a template, a form feed, then an accounts CSV. Any input is read or refused with a problem,
// never a crash; every notice made is JSON naming one address, and no two notices share an
// address (compared lower-cased), so no one is written to twice.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "privacy/breach_notices.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace billpay;
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto split = input.find('\f');
    const std::string form_text = input.substr(0, split);
    const std::string csv = split == std::string::npos ? "" : input.substr(split + 1);
    std::string problem;
    auto recipients = privacy::read_recipients(csv, problem);
    auto form = privacy::read_template(form_text, problem);
    if (!recipients || !form) {
        if (problem.empty()) {
            std::abort();  // refused without saying why
        }
        return 0;
    }
    std::set<std::string> addresses;
    for (const auto& notice : privacy::render_notices("INC-fuzz", *recipients, *form)) {
        boost::system::error_code ec;
        auto doc = boost::json::parse(notice.body, ec);
        if (ec || doc.at("customer").at("email").as_string() != notice.email) {
            std::abort();
        }
        std::string lowered = notice.email;
        std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!addresses.insert(lowered).second) {
            std::abort();  // a second notice to one address
        }
    }
    return 0;
}
