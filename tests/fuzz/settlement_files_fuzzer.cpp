// libFuzzer: both settlement file parsers (Stripe's itemized report and the generic CSV). Any
// file gives lines or problems and never a crash; every line read has an id and a currency.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "finance/settlement_files.hpp"

namespace {

void check(const billpay::finance::parsed_settlements& parsed) {
    // (A file with problems may come with the lines that were fine: the importer takes none.)
    for (const auto& line : parsed.lines) {
        if (line.currency.size() != 3 || line.line_id.empty()) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view content(reinterpret_cast<const char*>(data), size);
    check(billpay::finance::parse_stripe_itemized(content));
    check(billpay::finance::parse_generic(content));
    return 0;
}
