#include "config/load.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

namespace billpay::config {
namespace {

namespace fs = std::filesystem;

struct context {
    std::string file;
    fs::path dir;
    reader who = reader::daemon;
    std::vector<problem> problems;

    void report(const YAML::Mark& mark, std::string key_path, std::string message) {
        problems.push_back(problem{file, mark.is_null() ? 1 : mark.line + 1,
                                   mark.is_null() ? 1 : mark.column + 1, std::move(key_path),
                                   std::move(message)});
    }
};

bool is_absent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

/// Walks one YAML mapping: hands out its keys and, at the end, reports every key nobody asked
/// for. Missing required keys are reported at the mapping's own position.
class map_reader {
  public:
    map_reader(context& ctx, const YAML::Node& node, std::string path, YAML::Mark where)
        : ctx_(ctx), node_(node), path_(std::move(path)), mark_(where) {
        if (is_absent(node_)) {
            node_ = YAML::Node(YAML::NodeType::Map);
        } else if (!node_.IsMap()) {
            ctx_.report(node_.Mark(), path_.empty() ? "(document)" : path_, "must be a mapping");
            node_ = YAML::Node(YAML::NodeType::Map);
        } else {
            mark_ = node_.Mark();
        }
    }

    YAML::Node take(std::string_view key) {
        used_.emplace(key);
        for (auto it = node_.begin(); it != node_.end(); ++it) {
            if (it->first.IsScalar() && it->first.Scalar() == key) {
                return it->second;
            }
        }
        return YAML::Node(YAML::NodeType::Undefined);
    }

    [[nodiscard]] std::string path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    [[nodiscard]] const YAML::Mark& mark() const { return mark_; }
    context& ctx() { return ctx_; }

    void missing(std::string_view key) { ctx_.report(mark_, path(key), "is required"); }

    void finish() {
        std::set<std::string, std::less<>> seen;
        for (auto it = node_.begin(); it != node_.end(); ++it) {
            std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
            if (!seen.insert(key).second) {
                // yaml-cpp keeps the first of two equal keys; the second must not pass unseen.
                ctx_.report(it->first.Mark(), path(key), "duplicate key");
            } else if (!used_.contains(key)) {
                ctx_.report(it->first.Mark(), path(key), "unknown key");
            }
        }
    }

  private:
    context& ctx_;
    YAML::Node node_;
    std::string path_;
    YAML::Mark mark_;
    std::set<std::string, std::less<>> used_;
};

std::optional<std::string> read_string(map_reader& map, std::string_view key, bool required,
                                       bool allow_empty = false) {
    YAML::Node node = map.take(key);
    if (is_absent(node)) {
        if (required) {
            map.missing(key);
        }
        return std::nullopt;
    }
    if (!node.IsScalar()) {
        map.ctx().report(node.Mark(), map.path(key), "must be a string");
        return std::nullopt;
    }
    if (!allow_empty && node.Scalar().empty()) {
        map.ctx().report(node.Mark(), map.path(key), "must not be empty");
        return std::nullopt;
    }
    return node.Scalar();
}

std::optional<std::int64_t> read_integer(map_reader& map, std::string_view key, std::int64_t min,
                                         std::int64_t max) {
    YAML::Node node = map.take(key);
    if (is_absent(node)) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    const std::string* text = node.IsScalar() ? &node.Scalar() : nullptr;
    auto parsed = text ? std::from_chars(text->data(), text->data() + text->size(), value)
                       : std::from_chars_result{};
    if (!text || text->empty() || parsed.ec != std::errc{} ||
        parsed.ptr != text->data() + text->size()) {
        map.ctx().report(node.Mark(), map.path(key), "must be a whole number");
        return std::nullopt;
    }
    if (value < min || value > max) {
        map.ctx().report(node.Mark(), map.path(key),
                         "must be between " + std::to_string(min) + " and " + std::to_string(max));
        return std::nullopt;
    }
    return value;
}

template <class Int>
void read_into(map_reader& map, std::string_view key, Int& out, std::int64_t min,
               std::int64_t max) {
    if (auto v = read_integer(map, key, min, max)) {
        out = static_cast<Int>(*v);
    }
}

void read_millis(map_reader& map, std::string_view key, std::chrono::milliseconds& out,
                 std::int64_t min, std::int64_t max) {
    if (auto v = read_integer(map, key, min, max)) {
        out = std::chrono::milliseconds(*v);
    }
}

std::optional<std::string> read_choice(map_reader& map, std::string_view key,
                                       std::initializer_list<std::string_view> choices,
                                       bool required = false) {
    YAML::Node node = map.take(key);
    if (is_absent(node)) {
        if (required) {
            map.missing(key);
        }
        return std::nullopt;
    }
    if (node.IsScalar()) {
        for (auto choice : choices) {
            if (node.Scalar() == choice) {
                return node.Scalar();
            }
        }
    }
    std::string list;
    for (auto choice : choices) {
        list += (list.empty() ? "" : ", ") + std::string(choice);
    }
    map.ctx().report(node.Mark(), map.path(key), "must be one of: " + list);
    return std::nullopt;
}

fs::path resolve(const context& ctx, const std::string& value) {
    fs::path p(value);
    return p.is_absolute() ? p : ctx.dir / p;
}

bool check_readable_file(map_reader& map, std::string_view key, const YAML::Mark& mark,
                         const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
        map.ctx().report(mark, map.path(key), "no such file: " + p.string());
        return false;
    }
    if (::access(p.c_str(), R_OK) != 0) {
        map.ctx().report(mark, map.path(key), "file is not readable: " + p.string());
        return false;
    }
    return true;
}

/// A path to an existing, readable file.
std::optional<fs::path> read_existing_file(map_reader& map, std::string_view key, bool required) {
    YAML::Node node = map.take(key);
    if (is_absent(node)) {
        if (required) {
            map.missing(key);
        }
        return std::nullopt;
    }
    if (!node.IsScalar() || node.Scalar().empty()) {
        map.ctx().report(node.Mark(), map.path(key), "must be a file path");
        return std::nullopt;
    }
    fs::path p = resolve(map.ctx(), node.Scalar());
    if (!check_readable_file(map, key, node.Mark(), p)) {
        return std::nullopt;
    }
    return p;
}

/// A credential file named by a `*_file` key: relative names are looked up in
/// $CREDENTIALS_DIRECTORY (systemd LoadCredential=) first, then beside the config file.
fs::path resolve_credential(const context& ctx, const std::string& value) {
    fs::path p(value);
    if (p.is_absolute()) {
        return p;
    }
    if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY"); creds && *creds) {
        fs::path candidate = fs::path(creds) / p;
        std::error_code ec;
        if (fs::exists(candidate, ec)) {
            return candidate;
        }
    }
    return ctx.dir / p;
}

std::string read_whole_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    // Files written by `echo` or an editor end in a newline that is not part of the secret.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

/// A secret given either inline as `key` (development) or as a file through `key_file`.
/// `tools_may_lack`: a credential file billpayctl may run without (a processor's or the
/// webhook's: only some commands need them, and its units load only the database's). Missing
/// there, the secret stays empty and the command that needs it says so.
std::optional<secret> read_secret(map_reader& map, std::string_view key, bool required,
                                  bool tools_may_lack = false) {
    std::string file_key = std::string(key) + "_file";
    YAML::Node inline_node = map.take(key);
    YAML::Node file_node = map.take(file_key);
    bool has_inline = !is_absent(inline_node);
    bool has_file = !is_absent(file_node);
    if (has_inline && has_file) {
        map.ctx().report(file_node.Mark(), map.path(file_key),
                         "give either " + std::string(key) + " or " + file_key + ", not both");
        return std::nullopt;
    }
    if (has_inline) {
        if (!inline_node.IsScalar() || inline_node.Scalar().empty()) {
            map.ctx().report(inline_node.Mark(), map.path(key), "must be a non-empty string");
            return std::nullopt;
        }
        return secret(inline_node.Scalar());
    }
    if (has_file) {
        if (!file_node.IsScalar() || file_node.Scalar().empty()) {
            map.ctx().report(file_node.Mark(), map.path(file_key), "must be a file path");
            return std::nullopt;
        }
        fs::path p = resolve_credential(map.ctx(), file_node.Scalar());
        std::error_code absent;
        if (tools_may_lack && map.ctx().who != reader::daemon && !fs::exists(p, absent)) {
            return std::nullopt;
        }
        if (!check_readable_file(map, file_key, file_node.Mark(), p)) {
            return std::nullopt;
        }
        secret value(read_whole_file(p));
        if (value.empty()) {
            map.ctx().report(file_node.Mark(), map.path(file_key), "file is empty: " + p.string());
            return std::nullopt;
        }
        return value;
    }
    if (required) {
        map.ctx().report(map.mark(), map.path(file_key),
                         "is required (or " + std::string(key) + " for development)");
    }
    return std::nullopt;
}

void read_tls(map_reader& parent, tls_settings& tls) {
    map_reader map(parent.ctx(), parent.take("tls"), parent.path("tls"), parent.mark());
    if (auto p = read_existing_file(map, "certificate", true)) {
        tls.certificate = *p;
    }
    // private_key is a path for development; private_key_file is looked up in
    // $CREDENTIALS_DIRECTORY first, as every *_file key is.
    YAML::Node plain = map.take("private_key");
    YAML::Node cred = map.take("private_key_file");
    if (map.ctx().who != reader::daemon) {
        // billpayctl serves no TLS: the key is neither needed nor looked for.
    } else if (!is_absent(plain) && !is_absent(cred)) {
        map.ctx().report(cred.Mark(), map.path("private_key_file"),
                         "give either private_key or private_key_file, not both");
    } else if (!is_absent(plain) || !is_absent(cred)) {
        bool from_credentials = is_absent(plain);
        const YAML::Node& node = from_credentials ? cred : plain;
        std::string_view key = from_credentials ? "private_key_file" : "private_key";
        if (!node.IsScalar() || node.Scalar().empty()) {
            map.ctx().report(node.Mark(), map.path(key), "must be a file path");
        } else {
            fs::path p = from_credentials ? resolve_credential(map.ctx(), node.Scalar())
                                          : resolve(map.ctx(), node.Scalar());
            if (check_readable_file(map, key, node.Mark(), p)) {
                tls.private_key = p;
            }
        }
    } else {
        map.missing("private_key");
    }
    tls.client_ca = read_existing_file(map, "client_ca", false);
    read_millis(map, "ticket_key_rotation_ms", tls.ticket_key_rotation, 1'000, 86'400'000);
    map.finish();
}

void read_listen(map_reader& root, listen_settings& listen) {
    map_reader map(root.ctx(), root.take("listen"), "listen", root.mark());
    if (auto address = read_string(map, "address", false)) {
        boost::system::error_code ec;
        boost::asio::ip::make_address(*address, ec);
        if (ec) {
            map.ctx().report(map.mark(), map.path("address"), "must be an IPv4 or IPv6 address");
        } else {
            listen.address = *address;
        }
    }
    read_into(map, "port", listen.port, 0, 65535);
    read_into(map, "threads", listen.threads, 1, 256);
    read_into(map, "max_connections", listen.max_connections, 1, 1'000'000);
    read_into(map, "max_connections_per_address", listen.max_connections_per_address, 1, 1'000'000);
    read_into(map, "send_buffer_bytes", listen.send_buffer_bytes, 0, 16 * 1024 * 1024);
    read_into(map, "max_header_bytes", listen.max_header_bytes, 1024, 1024 * 1024);
    read_into(map, "max_body_bytes", listen.max_body_bytes, 1024, 16 * 1024 * 1024);
    read_millis(map, "handshake_timeout_ms", listen.handshake_timeout, 100, 600'000);
    read_millis(map, "read_timeout_ms", listen.read_timeout, 100, 600'000);
    read_millis(map, "write_timeout_ms", listen.write_timeout, 100, 600'000);
    read_millis(map, "idle_timeout_ms", listen.idle_timeout, 100, 3'600'000);
    read_millis(map, "unauthenticated_idle_timeout_ms", listen.unauthenticated_idle_timeout, 100,
                3'600'000);
    read_millis(map, "shutdown_grace_ms", listen.shutdown_grace, 0, 600'000);
    read_tls(map, listen.tls);
    map.finish();
}

void read_database(map_reader& root, database_settings& db) {
    map_reader map(root.ctx(), root.take("database"), "database", root.mark());
    if (auto dsn = read_secret(map, "dsn", true)) {
        db.dsn = std::move(*dsn);
    }
    read_into(map, "pool_size", db.pool_size, 1, 256);
    read_millis(map, "connect_timeout_ms", db.connect_timeout, 1'000, 600'000);
    read_millis(map, "statement_timeout_ms", db.statement_timeout, 100, 3'600'000);
    read_millis(map, "queue_timeout_ms", db.queue_timeout, 10, 600'000);
    read_into(map, "queue_limit", db.queue_limit, 1, 1'000'000);
    map.finish();
}

void read_clients(map_reader& root, std::vector<client_settings>& clients) {
    YAML::Node list = root.take("clients");
    if (is_absent(list)) {
        return;
    }
    if (!list.IsSequence()) {
        root.ctx().report(list.Mark(), "clients", "must be a list");
        return;
    }
    std::set<std::string> ids;
    std::set<std::array<std::uint8_t, 32>> key_hashes;
    std::set<std::string> certificate_cns;
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string path = "clients[" + std::to_string(i) + "]";
        map_reader map(root.ctx(), list[i], path, list.Mark());
        client_settings client;
        if (auto id = read_string(map, "id", true)) {
            client.id = *id;
            if (!ids.insert(*id).second) {
                map.ctx().report(map.mark(), map.path("id"), "duplicate client id \"" + *id + "\"");
            }
            if (id->starts_with("billpayd:")) {
                // billpayd's own charges (the schedule run's) are made under these.
                map.ctx().report(map.mark(), map.path("id"),
                                 "client ids beginning \"billpayd:\" are billpayd's own");
            }
        }
        if (auto role = read_choice(map, "role", {"portal", "finance", "ops", "billing"}, true)) {
            client.role = *role == "portal"    ? client_role::portal
                          : *role == "finance" ? client_role::finance
                          : *role == "billing" ? client_role::billing
                                               : client_role::ops;
        }
        YAML::Node hash = map.take("api_key_sha256");
        if (!is_absent(hash)) {
            std::array<std::uint8_t, 32> digest{};
            if (!hash.IsScalar() || !parse_api_key_hash(hash.Scalar(), digest)) {
                map.ctx().report(hash.Mark(), map.path("api_key_sha256"),
                                 "must be \"sha256:\" and 64 hex digits (billpayctl hash-key)");
            } else if (!key_hashes.insert(digest).second) {
                // Two clients with one key: whoever holds it would be both (the last would win).
                map.ctx().report(hash.Mark(), map.path("api_key_sha256"),
                                 "is another client's too: each client needs a key of its own");
            } else {
                client.api_key_sha256 = digest;
            }
        }
        client.certificate_cn = read_string(map, "certificate_cn", false);
        if (client.certificate_cn && !certificate_cns.insert(*client.certificate_cn).second) {
            map.ctx().report(
                map.mark(), map.path("certificate_cn"),
                "\"" + *client.certificate_cn +
                    "\" names another client too: each client needs a name of its own");
        }
        if (is_absent(hash) && !client.certificate_cn) {
            map.ctx().report(map.mark(), map.path("api_key_sha256"),
                             "is required (or certificate_cn, with listen.tls.client_ca)");
        }
        map.finish();
        clients.push_back(std::move(client));
    }
}

void read_gateway(map_reader& root, gateway_settings& gateway) {
    map_reader map(root.ctx(), root.take("gateway"), "gateway", root.mark());
    std::string processor = read_choice(map, "processor", {"simulator", "stripe", "authorizenet"})
                                .value_or("simulator");
    read_millis(map, "timeout_ms", gateway.timeout, 100, 600'000);
    map_reader simulator(map.ctx(), map.take("simulator"), map.path("simulator"), map.mark());
    simulator_settings sim;
    read_millis(simulator, "latency_ms", sim.latency, 0, 600'000);
    sim.ledger = resolve(
        map.ctx(), read_string(simulator, "ledger", false).value_or("simulator/ledger.jsonl"));
    simulator.finish();
    if (processor == "simulator") {
        gateway.processor = sim;
    }

    YAML::Node stripe_node = map.take("stripe");
    if (processor == "stripe" || !is_absent(stripe_node)) {
        map_reader stripe(map.ctx(), stripe_node, map.path("stripe"), map.mark());
        stripe_settings st;
        bool required = processor == "stripe";
        if (auto base = read_string(stripe, "api_base", false)) {
            if (!base->starts_with("https://")) {
                stripe.ctx().report(stripe.mark(), stripe.path("api_base"),
                                    "must be an https:// URL");
            }
            st.api_base = *base;
        }
        if (auto key = read_secret(stripe, "secret_key", required, true)) {
            st.secret_key = std::move(*key);
        }
        st.ca_file = read_existing_file(stripe, "ca_file", false);
        read_millis(stripe, "timeout_ms", st.timeout, 100, 600'000);
        read_millis(stripe, "keep_alive_ms", st.keep_alive, 0, 600'000);
        // Stripe keeps an Idempotency-Key 24 hours: a replay past that would charge again.
        read_millis(stripe, "replay_window_ms", st.replay_window, 60'000, 23 * 3'600'000);
        stripe.finish();
        if (required) {
            gateway.processor = std::move(st);
        }
    }

    YAML::Node authorizenet_node = map.take("authorizenet");
    if (processor == "authorizenet" || !is_absent(authorizenet_node)) {
        map_reader anet(map.ctx(), authorizenet_node, map.path("authorizenet"), map.mark());
        authorizenet_settings an;
        bool required = processor == "authorizenet";
        if (auto endpoint = read_string(anet, "endpoint", false)) {
            if (!endpoint->starts_with("https://")) {
                anet.ctx().report(anet.mark(), anet.path("endpoint"), "must be an https:// URL");
            }
            an.endpoint = *endpoint;
        }
        if (auto name = read_secret(anet, "login_id", required, true)) {
            an.login_id = std::move(*name);
        }
        if (auto key = read_secret(anet, "transaction_key", required, true)) {
            an.transaction_key = std::move(*key);
        }
        an.ca_file = read_existing_file(anet, "ca_file", false);
        read_millis(anet, "timeout_ms", an.timeout, 100, 600'000);
        read_millis(anet, "keep_alive_ms", an.keep_alive, 0, 600'000);
        anet.finish();
        if (required) {
            gateway.processor = std::move(an);
        }
    }
    map.finish();
}

void read_tokenizer(map_reader& root, tokenizer_settings& tokenizer) {
    map_reader map(root.ctx(), root.take("tokenizer"), "tokenizer", root.mark());
    const bool daemon = map.ctx().who == reader::daemon;
    // billpayctl keys no card fingerprints, but `schedule run` names an account to the
    // processor by its keyed pseudonym as billpayd does: its unit loads the key, the others not.
    if (auto key = read_secret(map, "fingerprint_key", daemon, !daemon); key && !key->empty()) {
        // HMAC-SHA256 keys shorter than the hash weaken it; 32 bytes is the floor.
        if (key->reveal().size() < 32) {
            map.ctx().report(map.mark(), map.path("fingerprint_key_file"),
                             "the key must be at least 32 bytes");
        } else {
            tokenizer.fingerprint_key = std::move(*key);
        }
    }
    map.finish();
}

void read_payments(map_reader& root, payments_settings& payments) {
    map_reader map(root.ctx(), root.take("payments"), "payments", root.mark());
    YAML::Node currencies = map.take("currencies");
    if (!is_absent(currencies)) {
        if (!currencies.IsSequence() || currencies.size() == 0) {
            map.ctx().report(currencies.Mark(), "payments.currencies",
                             "must be a non-empty list of ISO 4217 codes");
        } else {
            payments.currencies.clear();
            for (std::size_t i = 0; i < currencies.size(); ++i) {
                const YAML::Node& c = currencies[i];
                bool ok = c.IsScalar() && c.Scalar().size() == 3;
                for (char ch : ok ? c.Scalar() : std::string()) {
                    ok = ok && ch >= 'A' && ch <= 'Z';
                }
                if (!ok) {
                    map.ctx().report(c.Mark(), "payments.currencies[" + std::to_string(i) + "]",
                                     "must be a three-letter upper-case ISO 4217 code");
                } else {
                    payments.currencies.push_back(c.Scalar());
                }
            }
        }
    }
    // Amounts are minor units; 2^53 keeps them exact for JSON clients that parse numbers as
    // doubles (the portal's JavaScript).
    constexpr std::int64_t max_exact = std::int64_t{1} << 53;
    read_into(map, "min_amount", payments.min_amount, 1, max_exact);
    read_into(map, "max_amount", payments.max_amount, 1, max_exact);
    if (payments.max_amount < payments.min_amount) {
        map.ctx().report(map.mark(), "payments.max_amount", "must not be less than min_amount");
    }
    YAML::Node zone = map.take("time_zone");
    if (!is_absent(zone)) {
        std::error_code ec;
        bool ok = zone.IsScalar() && !zone.Scalar().empty() &&
                  zone.Scalar().find("..") == std::string::npos && zone.Scalar()[0] != '/' &&
                  fs::is_regular_file(fs::path("/usr/share/zoneinfo") / zone.Scalar(), ec);
        if (ok) {
            payments.time_zone = zone.Scalar();
        } else {
            map.ctx().report(zone.Mark(), "payments.time_zone",
                             "must be an IANA time zone name such as America/Chicago");
        }
    }
    read_into(map, "duplicate_window_minutes", payments.duplicate_window_minutes, 0, 525'600);
    read_into(map, "schedule_horizon_days", payments.schedule_horizon_days, 0, 366);
    read_into(map, "schedule_retries", payments.schedule_retries, 0, 5);
    read_into(map, "autopay_notice_days", payments.autopay_notice_days, 0, 30);
    YAML::Node keys = map.take("metadata_keys");
    if (!is_absent(keys)) {
        if (!keys.IsSequence() || keys.size() > 20) {
            map.ctx().report(keys.Mark(), "payments.metadata_keys",
                             "must be a list of at most 20 keys (an empty list: no metadata)");
        } else {
            payments.metadata_keys.clear();
            for (std::size_t i = 0; i < keys.size(); ++i) {
                const YAML::Node& k = keys[i];
                bool ok = k.IsScalar() && !k.Scalar().empty() && k.Scalar().size() <= 40;
                for (char ch : ok ? k.Scalar() : std::string()) {
                    ok = ok && (std::islower(static_cast<unsigned char>(ch)) ||
                                std::isdigit(static_cast<unsigned char>(ch)) || ch == '_');
                }
                if (!ok) {
                    map.ctx().report(k.Mark(), "payments.metadata_keys[" + std::to_string(i) + "]",
                                     "must be 1-40 lower-case letters, digits or '_'");
                } else {
                    payments.metadata_keys.push_back(k.Scalar());
                }
            }
        }
    }
    map_reader recovery(map.ctx(), map.take("recovery"), "payments.recovery", map.mark());
    read_millis(recovery, "after_ms", payments.recovery.after, 1'000, 86'400'000);
    read_millis(recovery, "interval_ms", payments.recovery.interval, 100, 3'600'000);
    read_into(recovery, "max_attempts", payments.recovery.max_attempts, 1, 1000);
    recovery.finish();
    map.finish();
}

void read_correspondence(map_reader& root, correspondence_settings& correspondence) {
    map_reader map(root.ctx(), root.take("correspondence"), "correspondence", root.mark());
    std::string transport = read_choice(map, "transport", {"spool", "webhook"}).value_or("spool");
    read_millis(map, "poll_interval_ms", correspondence.poll_interval, 100, 3'600'000);
    read_into(map, "concurrency", correspondence.concurrency, 1, 1000);
    read_millis(map, "retry_base_ms", correspondence.retry_base, 10, 3'600'000);
    read_millis(map, "retry_max_ms", correspondence.retry_max, 10, 86'400'000);
    if (auto hours = read_integer(map, "give_up_after_hours", 1, 24 * 365)) {
        correspondence.give_up_after = std::chrono::hours(*hours);
    }
    if (auto ms = read_integer(map, "give_up_after_ms", 1'000, 86'400'000LL * 365)) {
        correspondence.give_up_after = std::chrono::milliseconds(*ms);  // for tests
    }

    map_reader spool(map.ctx(), map.take("spool"), map.path("spool"), map.mark());
    spool_settings spool_cfg;
    if (auto dir = read_string(spool, "directory", false)) {
        spool_cfg.directory = resolve(map.ctx(), *dir);
    } else {
        spool_cfg.directory = resolve(map.ctx(), "var/spool/correspondence");
    }
    spool.finish();

    YAML::Node webhook_node = map.take("webhook");
    if (transport == "webhook" || !is_absent(webhook_node)) {
        map_reader webhook(map.ctx(), webhook_node, map.path("webhook"), map.mark());
        webhook_settings hook;
        bool required = transport == "webhook";
        if (auto url = read_string(webhook, "url", required)) {
            if (!url->starts_with("https://")) {
                webhook.ctx().report(webhook.mark(), webhook.path("url"),
                                     "must be an https:// URL");
            }
            hook.url = *url;
        }
        if (auto secret_value = read_secret(webhook, "signing_secret", required, true)) {
            hook.signing_secret = std::move(*secret_value);
        }
        hook.ca_file = read_existing_file(webhook, "ca_file", false);
        read_millis(webhook, "timeout_ms", hook.timeout, 100, 600'000);
        read_millis(webhook, "keep_alive_ms", hook.keep_alive, 0, 600'000);
        webhook.finish();
        if (transport == "webhook") {
            correspondence.transport = std::move(hook);
        }
    }
    if (transport == "spool") {
        correspondence.transport = spool_cfg;
    }
    map.finish();
}

void read_finance(map_reader& root, finance_settings& finance) {
    map_reader map(root.ctx(), root.take("finance"), "finance", root.mark());
    read_into(map, "settlement_days", finance.settlement_days, 1, 60);
    read_millis(map, "refund_recovery_after_ms", finance.refund_recovery_after, 1'000, 86'400'000);
    map_reader accounts(map.ctx(), map.take("gl_accounts"), map.path("gl_accounts"), map.mark());
    for (auto [key, field] : {std::pair{"clearing", &finance.accounts.clearing},
                              std::pair{"receivable", &finance.accounts.receivable},
                              std::pair{"fees", &finance.accounts.fees}}) {
        if (auto code = read_string(accounts, key, false)) {
            bool plain =
                !code->empty() && code->size() <= 32 &&
                std::all_of(code->begin(), code->end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
                });
            if (!plain) {
                accounts.ctx().report(accounts.mark(), accounts.path(key),
                                      "must be 1-32 letters, digits, '-' or '.'");
            } else {
                *field = *code;
            }
        }
    }
    accounts.finish();
    map.finish();
}

void read_retention(map_reader& root, retention_settings& retention) {
    map_reader map(root.ctx(), root.take("retention"), "retention", root.mark());
    // Finance's floor: a payment is kept whole at least as long as a card dispute can come.
    read_into(map, "payment_days", retention.payment_days, 120, 3'650);
    read_into(map, "idempotency_key_days", retention.idempotency_key_days, 1, 365);
    read_into(map, "receipt_body_days", retention.receipt_body_days, 1, 3'650);
    read_into(map, "batch_size", retention.batch_size, 1, 100'000);
    map.finish();
}

void read_audit(map_reader& root, audit_settings& audit) {
    map_reader map(root.ctx(), root.take("audit"), "audit", root.mark());
    if (map.ctx().who == reader::daemon) {
        // The daemon never signs checkpoints: only billpayctl's units load the key.
        map.take("checkpoint_key");
        map.take("checkpoint_key_file");
    } else if (auto key = read_secret(map, "checkpoint_key", false, true)) {
        if (key->reveal().size() < 32) {
            map.ctx().report(map.mark(), map.path("checkpoint_key_file"),
                             "the key must be at least 32 bytes");
        } else {
            audit.checkpoint_key = std::move(*key);
        }
    }
    read_into(map, "checkpoint_max_age_days", audit.checkpoint_max_age_days, 1, 366);
    map.finish();
}

void read_logging(map_reader& root, logging_settings& logging) {
    map_reader map(root.ctx(), root.take("logging"), "logging", root.mark());
    if (auto level = read_choice(map, "level", {"trace", "debug", "info", "warn", "error"})) {
        logging.level = *level;
    }
    map.finish();
}

/// Where a key is in the document (for a problem found after reading): the key's own line when
/// it is there, else its section's, else the gateway timeout that makes it a problem.
YAML::Mark mark_of(const YAML::Node& root, std::initializer_list<const char*> path,
                   const YAML::Mark& fallback) {
    YAML::Mark best = fallback;
    // yaml-cpp's Node::operator= writes into the tree: walk with reset(), which only rebinds.
    YAML::Node node;
    node.reset(root);
    for (const char* key : path) {
        if (!node.IsMap()) {
            break;
        }
        bool found = false;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (it->first.IsScalar() && it->first.Scalar() == key) {
                best = it->first.Mark();
                node.reset(it->second);
                found = true;
                break;
            }
        }
        if (!found) {
            break;
        }
    }
    return best;
}

/// Recovery may not ask about a charge or a refund that can still be under way: a lookup then
/// could find nothing (Authorize.Net) although the request is about to charge.
void check_recovery_delays(context& ctx, const YAML::Node& root, const settings& s) {
    const auto smallest = charge_window(s.gateway);
    const auto margin = smallest - s.gateway.timeout;
    const YAML::Mark gateway_mark = mark_of(root, {"gateway", "timeout_ms"}, YAML::Mark());
    auto why = [&](std::string_view key) {
        return "must be at least " + std::to_string(smallest.count()) + " (gateway.timeout_ms " +
               std::to_string(s.gateway.timeout.count()) + " plus a margin of " +
               std::to_string(margin.count()) + "): until then the " + std::string(key) +
               "'s request may still be under way at the processor";
    };
    if (s.payments.recovery.after < smallest) {
        ctx.report(mark_of(root, {"payments", "recovery", "after_ms"}, gateway_mark),
                   "payments.recovery.after_ms", why("payment"));
    }
    if (s.finance.refund_recovery_after < smallest) {
        ctx.report(mark_of(root, {"finance", "refund_recovery_after_ms"}, gateway_mark),
                   "finance.refund_recovery_after_ms", why("refund"));
    }
}

}  // namespace

std::string problem::to_string() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + key_path +
           ": " + message;
}

namespace {
std::string summarize(const std::vector<problem>& problems) {
    std::string text;
    for (const auto& p : problems) {
        text += p.to_string() + "\n";
    }
    return text;
}
}  // namespace

invalid_config::invalid_config(std::vector<problem> problems)
    : std::runtime_error(summarize(problems)), problems_(std::move(problems)) {}

bool parse_api_key_hash(std::string_view text, std::array<std::uint8_t, 32>& out) {
    constexpr std::string_view prefix = "sha256:";
    if (!text.starts_with(prefix) || text.size() != prefix.size() + 64) {
        return false;
    }
    text.remove_prefix(prefix.size());
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < 32; ++i) {
        int hi = nibble(text[2 * i]);
        int lo = nibble(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

settings load(const fs::path& file, reader who) {
    context ctx;
    ctx.who = who;
    ctx.file = file.string();
    std::error_code ec;
    fs::path absolute = fs::absolute(file, ec);
    ctx.dir = (ec ? file : absolute).parent_path();

    if (!fs::is_regular_file(file, ec)) {
        throw invalid_config({problem{ctx.file, 0, 0, "(file)", "cannot read the config file"}});
    }
    YAML::Node root;
    try {
        root = YAML::LoadFile(file.string());
    } catch (const YAML::ParserException& e) {
        throw invalid_config(
            {problem{ctx.file, e.mark.line + 1, e.mark.column + 1, "(syntax)", e.msg}});
    } catch (const YAML::Exception& e) {
        throw invalid_config({problem{ctx.file, 0, 0, "(file)", e.msg}});
    }

    settings result;
    result.source = file;
    map_reader map(ctx, root, "", YAML::Mark());
    read_listen(map, result.listen);
    read_database(map, result.database);
    read_clients(map, result.clients);
    read_gateway(map, result.gateway);
    read_tokenizer(map, result.tokenizer);
    read_payments(map, result.payments);
    read_correspondence(map, result.correspondence);
    read_finance(map, result.finance);
    read_retention(map, result.retention);
    read_audit(map, result.audit);
    read_logging(map, result.logging);
    map.finish();
    check_recovery_delays(ctx, root, result);

    if (!ctx.problems.empty()) {
        throw invalid_config(std::move(ctx.problems));
    }
    return result;
}

}  // namespace billpay::config
