#include "config/load.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <thread>

#include "tests/support/temp_dir.hpp"

namespace {

using namespace billpay;
using test::temp_dir;
using test::write_file;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* hash_a =
    "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

class ConfigLoad : public ::testing::Test {
  protected:
    void SetUp() override {
        write_file(dir / "server.crt", "certificate");
        write_file(dir / "server.key", "key");
        write_file(dir / "fp.key", std::string(64, 'k') + "\n");
        write_file(dir / "dsn", "host=/tmp dbname=billpay\n");
        unsetenv("CREDENTIALS_DIRECTORY");
    }

    /// A valid config with `extra` appended at the top level.
    std::string valid(const std::string& listen_extra = "", const std::string& extra = "") {
        return "listen:\n"
               "  port: 8443\n" +
               listen_extra +
               "  tls:\n"
               "    certificate: server.crt\n"
               "    private_key: server.key\n"
               "database:\n"
               "  dsn_file: dsn\n"
               "tokenizer:\n"
               "  fingerprint_key_file: fp.key\n" +
               extra;
    }

    /// Loads `yaml`; returns the problems as --check-config prints them, with the temp folder's
    /// path shortened to "F".
    std::vector<std::string> problems_of(const std::string& yaml) {
        auto file = dir / "billpayd.yaml";
        write_file(file, yaml);
        try {
            config::load(file);
            return {};
        } catch (const config::invalid_config& e) {
            std::vector<std::string> out;
            for (auto p : e.problems()) {
                p.file = "F";
                auto text = p.to_string();
                for (auto at = text.find(dir.path().string()); at != std::string::npos;
                     at = text.find(dir.path().string())) {
                    text.replace(at, dir.path().string().size(), "DIR");
                }
                out.push_back(text);
            }
            return out;
        }
    }

    config::settings load(const std::string& yaml) {
        auto file = dir / "billpayd.yaml";
        write_file(file, yaml);
        return config::load(file);
    }

    temp_dir dir;
};

TEST_F(ConfigLoad, AValidFileGivesItsValuesAndTheDocumentedDefaults) {
    auto s = load(valid("  threads: 4\n",
                        "clients:\n  - id: portal\n    role: portal\n"
                        "    api_key_sha256: \"" +
                            std::string(hash_a) + "\"\n"));
    EXPECT_EQ(s.listen.port, 8443);
    EXPECT_EQ(s.listen.threads, 4);
    EXPECT_EQ(s.listen.address, "127.0.0.1");
    EXPECT_EQ(s.listen.tls.certificate, dir / "server.crt");
    EXPECT_FALSE(s.listen.tls.client_ca);
    EXPECT_EQ(s.database.dsn.reveal(), "host=/tmp dbname=billpay");  // newline trimmed
    // 8 connections per core, 8 to 64 (docs/operations.md).
    EXPECT_EQ(s.database.pool_size,
              std::clamp(8 * static_cast<int>(std::thread::hardware_concurrency()), 8, 64));
    EXPECT_EQ(s.database.queue_limit, 1024);
    EXPECT_EQ(s.tokenizer.fingerprint_key.reveal(), std::string(64, 'k'));
    ASSERT_EQ(s.clients.size(), 1u);
    EXPECT_EQ(s.clients[0].id, "portal");
    EXPECT_EQ(s.clients[0].role, config::client_role::portal);
    EXPECT_EQ((*s.clients[0].api_key_sha256)[0], 0x2c);
    EXPECT_EQ(s.payments.currencies, std::vector<std::string>{"USD"});
    EXPECT_EQ(s.payments.max_amount, 10'000'000);
    EXPECT_EQ(s.logging.level, "info");
    EXPECT_TRUE(std::holds_alternative<config::simulator_settings>(s.gateway.processor));
}

TEST_F(ConfigLoad, AnUnknownKeyIsNamedWithItsPlace) {
    EXPECT_THAT(problems_of(valid("  prot: 1\n")), ElementsAre("F:3:3: listen.prot: unknown key"));
}

TEST_F(ConfigLoad, AnUnknownTopLevelSectionIsAnError) {
    EXPECT_THAT(problems_of(valid("", "paymets: {}\n")),
                ElementsAre("F:10:1: paymets: unknown key"));
}

TEST_F(ConfigLoad, EveryProblemIsReportedNotJustTheFirst) {
    auto yaml = valid("  threads: zero\n", "logging: {level: loud}\n");
    yaml.replace(yaml.find("8443"), 4, "70000");
    EXPECT_THAT(
        problems_of(yaml),
        ElementsAre("F:2:9: listen.port: must be between 0 and 65535",
                    "F:3:12: listen.threads: must be a whole number",
                    "F:11:18: logging.level: must be one of: trace, debug, info, warn, error"));
}

TEST_F(ConfigLoad, ADuplicatedKeyIsAnError) {
    EXPECT_THAT(problems_of(valid("  port: 1\n")),
                ElementsAre("F:3:3: listen.port: duplicate key"));
}

TEST_F(ConfigLoad, NumbersMustBeWholeAndInRange) {
    EXPECT_THAT(problems_of(valid("  threads: 1.5\n")),
                ElementsAre("F:3:12: listen.threads: must be a whole number"));
    EXPECT_THAT(problems_of(valid("  threads: 0\n")),
                ElementsAre("F:3:12: listen.threads: must be between 1 and 256"));
    auto yaml = valid();
    yaml.replace(yaml.find("  dsn_file: dsn\n"), 16, "  dsn_file: dsn\n  pool_size: -1\n");
    EXPECT_THAT(problems_of(yaml),
                ElementsAre("F:8:14: database.pool_size: must be between 1 and 256"));
}

TEST_F(ConfigLoad, MissingRequiredKeysAreNamedAtTheirSection) {
    auto problems = problems_of("listen:\n  tls:\n    certificate: server.crt\n");
    EXPECT_THAT(problems,
                ElementsAre("F:3:5: listen.tls.private_key: is required",
                            "F:1:1: database.dsn_file: is required (or dsn for development)",
                            "F:1:1: tokenizer.fingerprint_key_file: is required (or "
                            "fingerprint_key for development)"));
}

TEST_F(ConfigLoad, RecoveryMayNotAskBeforeAChargeCanNoLongerBeUnderWay) {
    // The gateway timeout plus half of it (at least a second): the smallest delay allowed.
    EXPECT_THAT(problems_of(valid("",
                                  "gateway:\n  timeout_ms: 30000\npayments:\n  recovery:\n"
                                  "    after_ms: 1000\nfinance:\n"
                                  "  refund_recovery_after_ms: 44999\n")),
                ElementsAre("F:14:5: payments.recovery.after_ms: must be at least 45000 "
                            "(gateway.timeout_ms 30000 plus a margin of 15000): until then the "
                            "payment's request may still be under way at the processor",
                            "F:16:3: finance.refund_recovery_after_ms: must be at least 45000 "
                            "(gateway.timeout_ms 30000 plus a margin of 15000): until then the "
                            "refund's request may still be under way at the processor"));
    // Left at its default (60 s), the delay is judged against a longer gateway timeout there.
    EXPECT_THAT(problems_of(valid("", "gateway:\n  timeout_ms: 50000\n")),
                Contains(HasSubstr("F:11:3: payments.recovery.after_ms: must be at least 75000")));
    auto fast = load(valid("",
                           "gateway:\n  timeout_ms: 500\npayments:\n  recovery:\n"
                           "    after_ms: 1500\nfinance:\n  refund_recovery_after_ms: 1500\n"));
    EXPECT_EQ(fast.payments.recovery.after, std::chrono::milliseconds(1500));
    EXPECT_EQ(config::charge_window(fast.gateway), std::chrono::milliseconds(1500));
}

TEST_F(ConfigLoad, FilesThatMustExistAreChecked) {
    auto yaml = valid();
    yaml.replace(yaml.find("server.crt"), 10, "missing.crt");
    EXPECT_THAT(problems_of(yaml),
                ElementsAre("F:4:18: listen.tls.certificate: no such file: DIR/missing.crt"));
}

TEST_F(ConfigLoad, AnEmptyCredentialFileIsAnError) {
    write_file(dir / "dsn", "\n");
    EXPECT_THAT(problems_of(valid()),
                ElementsAre("F:7:13: database.dsn_file: file is empty: DIR/dsn"));
}

TEST_F(ConfigLoad, ASecretGivenTwiceIsAnError) {
    auto yaml = valid();
    yaml.replace(yaml.find("  dsn_file: dsn\n"), 16, "  dsn: \"host=/x\"\n  dsn_file: dsn\n");
    EXPECT_THAT(problems_of(yaml),
                ElementsAre("F:8:13: database.dsn_file: give either dsn or dsn_file, not both"));
}

TEST_F(ConfigLoad, RelativeCredentialFilesComeFromTheCredentialsDirectoryFirst) {
    temp_dir creds;
    write_file(creds / "dsn", "host=/from-credentials\n");
    setenv("CREDENTIALS_DIRECTORY", creds.path().c_str(), 1);
    auto s = load(valid());
    EXPECT_EQ(s.database.dsn.reveal(), "host=/from-credentials");
    // A name the credentials directory lacks is still found beside the config.
    EXPECT_EQ(s.tokenizer.fingerprint_key.reveal(), std::string(64, 'k'));
    unsetenv("CREDENTIALS_DIRECTORY");
}

TEST_F(ConfigLoad, AShortFingerprintKeyIsRefused) {
    write_file(dir / "fp.key", "short");
    EXPECT_THAT(problems_of(valid()),
                ElementsAre("F:9:3: tokenizer.fingerprint_key_file: the key must be at least 32 "
                            "bytes"));
}

TEST_F(ConfigLoad, ClientsAreChecked) {
    auto problems = problems_of(valid("",
                                      "clients:\n"
                                      "  - id: portal\n"
                                      "    role: admin\n"
                                      "    api_key_sha256: \"abc\"\n"
                                      "  - id: portal\n"
                                      "    role: ops\n"));
    EXPECT_THAT(
        problems,
        ElementsAre("F:12:11: clients[0].role: must be one of: portal, finance, ops, billing",
                    "F:13:21: clients[0].api_key_sha256: must be \"sha256:\" and 64 hex "
                    "digits (billpayctl hash-key)",
                    "F:14:5: clients[1].id: duplicate client id \"portal\"",
                    "F:14:5: clients[1].api_key_sha256: is required (or certificate_cn, "
                    "with listen.tls.client_ca)"));
}

TEST_F(ConfigLoad, ClientIdsOfBillpaydsOwnAreRefused) {
    // The schedule run charges as billpayd:schedule and billpayd:autopay: a payment's origin is
    // read from its client, so no configured client may pass for it.
    auto problems = problems_of(valid("",
                                      "clients:\n"
                                      "  - id: billpayd:autopay\n"
                                      "    role: portal\n"
                                      "    api_key_sha256: \"sha256:" +
                                          std::string(64, 'a') +
                                          "\"\n"
                                          "  - id: billpay-portal\n"
                                          "    role: portal\n"
                                          "    api_key_sha256: \"sha256:" +
                                          std::string(64, 'b') + "\"\n"));
    EXPECT_THAT(problems,
                ElementsAre("F:11:5: clients[0].id: client ids beginning \"billpayd:\" are "
                            "billpayd's own"));
}

TEST_F(ConfigLoad, BillpayctlNeedsNeitherTheTlsKeyNorTheFingerprintKey) {
    // Its units load only the database's credential: the daemon's secrets stay with the daemon.
    std::filesystem::remove(dir / "server.key");
    std::filesystem::remove(dir / "fp.key");
    auto file = dir / "billpayd.yaml";
    write_file(file, valid());
    EXPECT_THROW(config::load(file), config::invalid_config);
    auto settings = config::load(file, config::reader::billpayctl);
    EXPECT_TRUE(settings.tokenizer.fingerprint_key.empty());
    EXPECT_TRUE(settings.listen.tls.private_key.empty());
    EXPECT_FALSE(settings.database.dsn.empty());

    // Nor the processor's, which only some of its commands need (they say so when it lacks).
    write_file(file, valid("",
                           "gateway:\n  processor: stripe\n  stripe:\n"
                           "    secret_key_file: stripe-secret-key\n"));
    EXPECT_THROW(config::load(file), config::invalid_config);
    EXPECT_TRUE(config::load(file, config::reader::billpayctl).gateway.processor.index() > 0);
}

TEST_F(ConfigLoad, StripesReplayWindowStaysWellInsideTheDayStripeKeepsKeys) {
    // A lost charge is resent under its key only within the window: past Stripe's 24 hours
    // the resend would charge again.
    const std::string stripe =
        "gateway:\n  processor: stripe\n  stripe:\n    secret_key: \"sk_test_x\"\n";
    EXPECT_THAT(problems_of(valid("", stripe + "    replay_window_ms: 86400000\n")),
                ElementsAre(HasSubstr("gateway.stripe.replay_window_ms")));
    write_file(dir / "billpayd.yaml", valid("", stripe + "    replay_window_ms: 3600000\n"));
    auto settings = config::load(dir / "billpayd.yaml");
    EXPECT_EQ(std::get<config::stripe_settings>(settings.gateway.processor).replay_window,
              std::chrono::hours(1));
    write_file(dir / "billpayd.yaml", valid("", stripe));
    EXPECT_EQ(
        std::get<config::stripe_settings>(config::load(dir / "billpayd.yaml").gateway.processor)
            .replay_window,
        std::chrono::hours(12));
}

TEST_F(ConfigLoad, TwoClientsMayNotShareAKeyOrACertificateName) {
    // Whoever held the shared key or certificate would be both clients, the last one winning.
    auto problems = problems_of(valid("",
                                      "clients:\n"
                                      "  - {id: a, role: portal, api_key_sha256: \"" +
                                          std::string(hash_a) +
                                          "\", certificate_cn: app}\n"
                                          "  - {id: b, role: finance, api_key_sha256: \"" +
                                          std::string(hash_a) +
                                          "\"}\n"
                                          "  - {id: c, role: ops, certificate_cn: app}\n"));
    EXPECT_THAT(problems, ElementsAre(HasSubstr("clients[1].api_key_sha256: is another client's "
                                                "too: each client needs a key of its own"),
                                      HasSubstr("clients[2].certificate_cn: \"app\" names another "
                                                "client too")));
}

TEST_F(ConfigLoad, PaymentLimitsAndCurrenciesAreChecked) {
    auto problems = problems_of(valid("",
                                      "payments:\n"
                                      "  currencies: [USD, usd]\n"
                                      "  min_amount: 500\n"
                                      "  max_amount: 100\n"));
    EXPECT_THAT(problems,
                ElementsAre("F:11:21: payments.currencies[1]: must be a three-letter upper-case "
                            "ISO 4217 code",
                            "F:11:3: payments.max_amount: must not be less than min_amount"));
}

TEST_F(ConfigLoad, AnAddressMustBeAnIpAddress) {
    EXPECT_THAT(problems_of(valid("  address: localhost\n")),
                ElementsAre("F:2:3: listen.address: must be an IPv4 or IPv6 address"));
}

TEST_F(ConfigLoad, ASyntaxErrorNamesItsLineAndColumn) {
    auto problems = problems_of("listen:\n  port: [8443\n");
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_THAT(problems[0], HasSubstr("F:3:1: (syntax): "));
}

TEST_F(ConfigLoad, AProcessorThatThisBuildLacksIsRefused) {
    EXPECT_THAT(
        problems_of(valid("", "gateway:\n  processor: paypal\n")),
        ElementsAre("F:11:14: gateway.processor: must be one of: simulator, stripe, authorizenet"));
}

TEST_F(ConfigLoad, AuthorizeNetReadsItsTwoCredentialsFromFiles) {
    write_file(dir / "login", "5KP3u95bQpv\n");
    write_file(dir / "txkey", "346HZ32z3fP4hTG2\n");
    auto s = load(valid("",
                        "gateway:\n  processor: authorizenet\n  authorizenet:\n"
                        "    endpoint: https://apitest.authorize.net/xml/v1/request.api\n"
                        "    login_id_file: login\n    transaction_key_file: txkey\n"));
    const auto* a = std::get_if<config::authorizenet_settings>(&s.gateway.processor);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->endpoint, "https://apitest.authorize.net/xml/v1/request.api");
    EXPECT_EQ(a->login_id.reveal(), "5KP3u95bQpv");
    EXPECT_EQ(a->transaction_key.reveal(), "346HZ32z3fP4hTG2");
    EXPECT_EQ(a->timeout, std::chrono::milliseconds(30'000));

    auto problems = problems_of(valid("",
                                      "gateway:\n  processor: authorizenet\n"
                                      "  authorizenet:\n    endpoint: http://x\n"));
    EXPECT_THAT(problems,
                Contains(HasSubstr("gateway.authorizenet.endpoint: must be an https://")));
    EXPECT_THAT(problems, Contains(HasSubstr("gateway.authorizenet.login_id")));
    EXPECT_THAT(problems, Contains(HasSubstr("gateway.authorizenet.transaction_key")));
}

TEST_F(ConfigLoad, TheExampleConfigUsesOnlyKnownKeys) {
    // The example points at /etc and credential files that do not exist here; every other
    // problem would mean the example documents a key that the loader does not know.
    auto example = test::read_file(test::source_dir() / "config" / "billpayd.example.yaml");
    for (const auto& p : problems_of(example)) {
        EXPECT_THAT(p, HasSubstr("no such file")) << p;
    }
}

}  // namespace

namespace {

TEST_F(ConfigLoad, RetentionHasFinancesFloorAndDocumentedDefaults) {
    auto s = load(valid());
    EXPECT_EQ(s.retention.payment_days, 540);
    EXPECT_EQ(s.retention.idempotency_key_days, 7);
    EXPECT_EQ(s.retention.receipt_body_days, 30);
    // A payment is kept whole at least as long as a card dispute can come (120 days).
    EXPECT_THAT(problems_of(valid("", "retention:\n  payment_days: 30\n  extra: 1\n")),
                ElementsAre(HasSubstr("retention.payment_days"), HasSubstr("retention.extra")));
    auto longer = load(valid("", "retention:\n  payment_days: 2555\n  receipt_body_days: 90\n"));
    EXPECT_EQ(longer.retention.payment_days, 2555);
    EXPECT_EQ(longer.retention.receipt_body_days, 90);
}

TEST_F(ConfigLoad, OnlyBillpayctlReadsTheAuditCheckpointKey) {
    write_file(dir / "audit.key", std::string(40, 'a'));
    auto file = dir / "billpayd.yaml";
    write_file(file, valid("", "audit:\n  checkpoint_key_file: audit.key\n"));
    EXPECT_TRUE(config::load(file).audit.checkpoint_key.empty());  // the daemon never signs
    EXPECT_EQ(config::load(file, config::reader::billpayctl).audit.checkpoint_key.reveal(),
              std::string(40, 'a'));
    // A unit without it (billpayd-reconcile.service) still runs; a short key is refused.
    std::filesystem::remove(dir / "audit.key");
    EXPECT_TRUE(config::load(file, config::reader::billpayctl).audit.checkpoint_key.empty());
    write_file(dir / "audit.key", "short");
    EXPECT_THROW(config::load(file, config::reader::billpayctl), config::invalid_config);
}

TEST_F(ConfigLoad, MetadataKeysAreNamedFactsNotFreeText) {
    EXPECT_EQ(
        load(valid()).payments.metadata_keys,
        (std::vector<std::string>{"portal_session", "channel", "bill_period", "invoice_number"}));
    EXPECT_TRUE(load(valid("", "payments:\n  metadata_keys: []\n")).payments.metadata_keys.empty());
    EXPECT_THAT(problems_of(valid("", "payments:\n  metadata_keys: [ok_key, \"Free Text\"]\n")),
                ElementsAre(HasSubstr("payments.metadata_keys[1]")));
}

}  // namespace
