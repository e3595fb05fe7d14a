#include "tokenizer/wiping_json.hpp"

#include <openssl/crypto.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/memory_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/storage_ptr.hpp>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "memory/wiping_allocator.hpp"

namespace billpay::tokenizer {
namespace {

/// Memory that is overwritten before it is given back: to `upstream`, or to the heap.
class wiping_resource final : public boost::json::memory_resource {
  public:
    explicit wiping_resource(boost::json::memory_resource* upstream) : upstream_(upstream) {}

  private:
    // Over-aligned requests take the aligned operator new, the rest the plain one; each block
    // goes back through the matching delete (ASan checks the pairing).
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        if (upstream_) {
            return upstream_->allocate(bytes, alignment);
        }
        if (alignment > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
            return ::operator new(bytes, std::align_val_t(alignment));
        }
        return ::operator new(bytes);
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
        OPENSSL_cleanse(p, bytes);
        if (upstream_) {
            upstream_->deallocate(p, bytes, alignment);
        } else if (alignment > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
            ::operator delete(p, bytes, std::align_val_t(alignment));
        } else {
            ::operator delete(p, bytes);
        }
    }
    bool do_is_equal(const boost::json::memory_resource& other) const noexcept override {
        return this == &other;
    }

    boost::json::memory_resource* upstream_;
};

/// A first pass over the text that looks at nothing but object keys: a key twice in one object
/// is an error. Boost.JSON keeps the last of duplicates silently, and two readers of one body
/// must never see two different requests ({"amount": 1, "amount": 99999}). Keys are held in
/// wiping memory: a hostile body may put anything in a key.
class duplicate_keys {
  public:
    using text = std::basic_string<char, std::char_traits<char>, memory::wiping_allocator<char>>;
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    bool on_document_begin(boost::system::error_code&) { return true; }
    bool on_document_end(boost::system::error_code&) { return true; }
    bool on_array_begin(boost::system::error_code&) { return true; }
    bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
    bool on_object_begin(boost::system::error_code&) {
        objects_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, boost::system::error_code&) {
        objects_.pop_back();
        return true;
    }
    bool on_string_part(std::string_view, std::size_t, boost::system::error_code&) { return true; }
    bool on_string(std::string_view, std::size_t, boost::system::error_code&) { return true; }
    bool on_key_part(std::string_view part, std::size_t, boost::system::error_code&) {
        key_.append(part);
        return true;
    }
    bool on_key(std::string_view part, std::size_t, boost::system::error_code& ec) {
        key_.append(part);
        const bool fresh = objects_.back().insert(key_).second;
        key_.clear();
        if (!fresh) {
            ec = make_error_code(boost::system::errc::invalid_argument);
        }
        return fresh;
    }
    bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
    bool on_int64(std::int64_t, std::string_view, boost::system::error_code&) { return true; }
    bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code&) { return true; }
    bool on_double(double, std::string_view, boost::system::error_code&) { return true; }
    bool on_bool(bool, boost::system::error_code&) { return true; }
    bool on_null(boost::system::error_code&) { return true; }
    bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
    bool on_comment(std::string_view, boost::system::error_code&) { return true; }

  private:
    std::vector<std::set<text, std::less<>, memory::wiping_allocator<text>>> objects_;
    text key_;
};

}  // namespace

boost::json::value parse_wiping(std::string_view body, boost::system::error_code& ec,
                                json_limits limits, boost::json::memory_resource* upstream) {
    auto storage = boost::json::make_shared_resource<wiping_resource>(upstream);
    boost::json::parse_options options;
    options.max_depth = limits.max_depth;
    options.allow_comments = false;
    options.allow_trailing_commas = false;
    options.allow_invalid_utf8 = false;
    unsigned char work_space[1024];
    boost::json::value result(storage);  // same storage: release() below moves, never copies
    {
        boost::json::parser parser(storage, options, work_space, sizeof work_space);
        parser.reset(storage);
        parser.write(body.data(), body.size(), ec);  // one complete text; trailing bytes are errors
        if (!ec) {
            result = parser.release();
        }
    }
    OPENSSL_cleanse(work_space, sizeof work_space);
    if (ec) {
        return boost::json::value(nullptr);
    }
    {
        // Valid JSON, within the limits: now no object may name a key twice.
        boost::json::basic_parser<duplicate_keys> keys(options);
        keys.write_some(false, body.data(), body.size(), ec);
    }
    if (ec) {
        return boost::json::value(nullptr);
    }
    return result;
}

}  // namespace billpay::tokenizer
