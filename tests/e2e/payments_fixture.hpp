#pragma once

#include <openssl/sha.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <future>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "gateway_adapters/simulator/simulator_ledger.hpp"
#include "tests/e2e/daemon_fixture.hpp"

namespace billpay::test {

/// API keys of the test clients (long random-looking strings; only their hashes are in the
/// config billpayd reads).
inline const std::string portal_key = "portal-key-7d1f0c9e4b2a85f3e6d7c8b9a0f1e2d3";
inline const std::string other_portal_key = "portal2-key-1a2b3c4d5e6f708192a3b4c5d6e7f809";
inline const std::string finance_key = "finance-key-0f9e8d7c6b5a49382716a5b4c3d2e1f0";
inline const std::string ops_key = "ops-key-5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4";
inline const std::string billing_key = "billing-key-8c7b6a594837261504f3e2d1c0b9a8f7e6";

inline std::string sha256_line(const std::string& key) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned char b : digest) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
    }
    return out;
}

/// A billpayd with API clients, the simulator, a 1 s processor deadline and a fast recovery
/// worker, plus helpers to pay and to look into the database.
class payments_fixture : public daemon_fixture {
  protected:
    void SetUp() override {
        daemon_fixture::SetUp();
        config.extra_root = clients_yaml() + gateway_yaml() + payments_yaml();
        records_dsn = database.dsn();
    }

    /// Where the helpers below read billpayd's records: the test's database, unless the test
    /// runs billpayd against a PostgreSQL of its own.
    std::string records_dsn;

    std::string clients_yaml() const {
        return "clients:\n"
               "  - {id: portal, role: portal, api_key_sha256: \"" +
               sha256_line(portal_key) +
               "\"}\n"
               "  - {id: portal2, role: portal, api_key_sha256: \"" +
               sha256_line(other_portal_key) +
               "\"}\n"
               "  - {id: finance, role: finance, api_key_sha256: \"" +
               sha256_line(finance_key) +
               "\"}\n"
               "  - {id: ops, role: ops, api_key_sha256: \"" +
               sha256_line(ops_key) +
               "\"}\n"
               "  - {id: billing, role: billing, api_key_sha256: \"" +
               sha256_line(billing_key) + "\"}\n";
    }
    std::string gateway_yaml(int latency_ms = 0) const {
        return "gateway:\n  processor: simulator\n  timeout_ms: 1000\n  simulator: {latency_ms: " +
               std::to_string(latency_ms) + "}\n";
    }
    /// The utility's time zone (payments.time_zone) the config sets and local_day() uses.
    std::string time_zone = "America/Chicago";

    std::string payments_yaml(int recovery_after_ms = 2000, int max_attempts = 2) const {
        return "payments:\n  currencies: [USD, CAD]\n  max_amount: 5000000\n"
               "  time_zone: " +
               time_zone +
               "\n"
               "  recovery: {after_ms: " +
               std::to_string(recovery_after_ms) +
               ", interval_ms: 200, max_attempts: " + std::to_string(max_attempts) + "}\n";
    }

    static std::map<std::string, std::string> auth(const std::string& key,
                                                   const std::string& idempotency_key = "") {
        std::map<std::string, std::string> h{{"Authorization", "Bearer " + key}};
        if (!idempotency_key.empty()) {
            h["Idempotency-Key"] = idempotency_key;
        }
        return h;
    }

    /// How a test names a card in its failure messages: its last four digits only (no card
    /// number, not even a published test number, is ever printed).
    static std::string card_label(const std::string& number) {
        return "card ending " + number.substr(number.size() - 4);
    }

    /// A payment body paying `amount` for `bill` with `card_number`.
    static boost::json::object payment_body(const std::string& card_number,
                                            const std::string& bill = "2026-11",
                                            std::int64_t amount = 12500,
                                            const std::string& account = "1001-2002") {
        return boost::json::object{
            {"account_number", account},
            {"bill_id", bill},
            {"amount", amount},
            {"currency", "USD"},
            {"card",
             boost::json::object{
                 {"number", card_number},
                 {"exp_month", 12},
                 {"exp_year", 2031},
                 {"cvc", card_number.starts_with("34") || card_number.starts_with("37") ? "1234"
                                                                                        : "123"}}},
            {"customer",
             boost::json::object{{"name", "Ada Lovelace"}, {"email", "ada@example.com"}}}};
    }

    http_response post(https_client& c, const std::string& path, const boost::json::value& body,
                       const std::string& key, const std::string& idempotency_key) {
        return c.request(http::verb::post, path, boost::json::serialize(body),
                         auth(key, idempotency_key));
    }

    http_response pay(https_client& c, const boost::json::value& body,
                      const std::string& idempotency_key, const std::string& key = portal_key) {
        return post(c, "/v1/payments", body, key, idempotency_key);
    }

    http_response get(https_client& c, const std::string& target,
                      const std::string& key = portal_key) {
        return c.request(http::verb::get, target, "", auth(key));
    }

    /// A number from one SQL query against the test database.
    std::int64_t count(const std::string& sql) {
        pqxx::connection conn(records_dsn);
        pqxx::read_transaction tx(conn);
        return tx.exec(sql)[0][0].as<std::int64_t>();
    }

    /// What the simulator processor remembers (its own ledger file, as a processor's records
    /// would be on its side; the config's default place, next to the config).
    [[nodiscard]] gateway::simulator::ledger_contents processor_ledger() const {
        return gateway::simulator::ledger::read(dir / "simulator" / "ledger.jsonl");
    }
    /// Charges the simulator made, and its live tokens.
    [[nodiscard]] std::int64_t processor_charges() const {
        return static_cast<std::int64_t>(processor_ledger().charges.size());
    }
    [[nodiscard]] std::int64_t processor_tokens() const {
        std::int64_t live = 0;
        for (const auto& [token, row] : processor_ledger().tokens) {
            live += row.deleted ? 0 : 1;
        }
        return live;
    }
    /// The sum the simulator refunded (refunds and voids).
    [[nodiscard]] std::int64_t processor_refunded() const {
        std::int64_t sum = 0;
        for (const auto& [key, refund] : processor_ledger().refunds) {
            sum += refund.amount;
        }
        return sum;
    }

    /// Where billpayd's payments and the processor's ledger disagree: a succeeded payment with
    /// no approved charge under its id (or another reference), an approved charge whose payment
    /// did not succeed, a charge for no payment at all. Empty when they agree one to one.
    std::vector<std::string> ledger_disagreements() {
        auto ledger = processor_ledger();
        pqxx::connection conn(records_dsn);
        pqxx::read_transaction tx(conn);
        std::vector<std::string> problems;
        std::set<std::string> ours;
        for (const auto& row :
             tx.exec("SELECT id, status, coalesce(processor_reference, '') FROM payments")) {
            auto id = row[0].as<std::string>();
            auto status = row[1].as<std::string>();
            ours.insert(id);
            auto charge = ledger.charges.find(id);
            bool charged = charge != ledger.charges.end() && charge->second.outcome == "approved";
            bool took_money =
                status == "succeeded" || status == "partially_refunded" || status == "refunded";
            if (took_money != charged) {
                problems.push_back(id + " is " + status + " but the processor " +
                                   (charged ? "charged it" : "holds no approved charge"));
            } else if (charged && row[2].as<std::string>() != charge->second.reference) {
                problems.push_back(id + " names another charge than the processor's");
            }
        }
        for (const auto& [key, charge] : ledger.charges) {
            if (!ours.contains(key)) {
                problems.push_back("the processor charged " + key + ", which billpayd never made");
            }
        }
        return problems;
    }

    /// Rows in every table a request could change, and what the processor holds: the "nothing
    /// changed" check.
    std::string table_counts() {
        return std::to_string(count("SELECT count(*) FROM payments")) + "/" +
               std::to_string(count("SELECT count(*) FROM idempotency_keys")) + "/" +
               std::to_string(count("SELECT count(*) FROM payment_methods")) + "/" +
               std::to_string(processor_tokens()) + "/" + std::to_string(processor_charges());
    }

    /// Polls GET /v1/payments/{id} until its status is `status`.
    bool status_becomes(const std::string& id, const std::string& status,
                        std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        auto c = client();
        while (std::chrono::steady_clock::now() < deadline) {
            auto res = get(c, "/v1/payments/" + id + "?account_number=1001-2002");
            if (res.result() == http::status::ok &&
                json_of(res).at("status") == boost::json::value(status)) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

    /// A succeeded payment of `amount` for `bill` (key pay-<bill>); its id.
    std::string paid(https_client& c, std::int64_t amount, const std::string& bill,
                     const std::string& card = "4242424242424242") {
        auto res = pay(c, payment_body(card, bill, amount), "pay-" + bill);
        EXPECT_EQ(res.result(), http::status::created) << res.body();
        return std::string(json_of(res).at("id").as_string());
    }

    /// The text of the first column of the first row of one SQL query.
    std::string text(const std::string& sql) {
        pqxx::connection conn(records_dsn);
        pqxx::read_transaction tx(conn);
        return tx.exec(sql)[0][0].as<std::string>();
    }

    /// Runs one SQL statement on the records (to let time pass for a row, say).
    void exec(const std::string& sql) {
        pqxx::connection conn(records_dsn);
        pqxx::work tx(conn);
        tx.exec(sql);
        tx.commit();
    }

    /// billpayctl with this test's config, for a shell command line.
    std::string ctl() const {
        return built_program("billpayctl").string() + " --config " +
               (dir / "billpayd.yaml").string();
    }

    /// A day (YYYY-MM-DD) in the fixture's time zone, `offset` days from today.
    std::string local_day(int offset = 0) {
        pqxx::connection conn(records_dsn);
        pqxx::read_transaction tx(conn);
        return tx
            .exec_params("SELECT to_char((now() AT TIME ZONE $2)::date + $1::int, 'YYYY-MM-DD')",
                         offset, time_zone)[0][0]
            .as<std::string>();
    }

    /// Pays `total` bills over 16 connections at once with `card` (bill b<i>, amount 100 + i,
    /// key k<i>). Each answer must be 201 or 202; returns how many were 202.
    int pay_concurrently(int total, const std::string& card) {
        std::atomic<int> next{0};
        std::atomic<int> accepted{0};
        std::vector<std::future<void>> workers;
        for (int w = 0; w < 16; ++w) {
            workers.push_back(std::async(std::launch::async, [&] {
                https_client c(daemon->port());
                for (int i = next++; i < total; i = next++) {
                    auto res = pay(c, payment_body(card, "b" + std::to_string(i), 100 + i),
                                   "k" + std::to_string(i));
                    if (res.result() == http::status::accepted) {
                        ++accepted;
                    } else {
                        EXPECT_EQ(res.result(), http::status::created) << res.body();
                    }
                }
            }));
        }
        for (auto& w : workers) {
            w.get();
        }
        return accepted.load();
    }

    /// Waits until no payment is pending; if some still are after `timeout`, shows why from
    /// billpayd's own warnings and errors.
    void wait_until_none_pending(std::chrono::seconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (count("SELECT count(*) FROM payments WHERE status = 'pending'") > 0 &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        if (count("SELECT count(*) FROM payments WHERE status = 'pending'") > 0) {
            std::istringstream lines(daemon->log());
            int shown = 0;
            for (std::string line; std::getline(lines, line) && shown < 5;) {
                if (line.find("\"level\":\"error\"") != std::string::npos ||
                    line.find("\"level\":\"warn\"") != std::string::npos) {
                    ADD_FAILURE() << line;
                    ++shown;
                }
            }
        }
    }
};

}  // namespace billpay::test
