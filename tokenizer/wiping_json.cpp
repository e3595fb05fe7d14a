#include "tokenizer/wiping_json.hpp"

#include <openssl/crypto.h>

#include <boost/json/memory_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/storage_ptr.hpp>
#include <new>

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
    return result;
}

}  // namespace billpay::tokenizer
