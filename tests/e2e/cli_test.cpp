// The command lines: billpayd --check-config / --version, billpayctl hash-key and migrate.
#include <gmock/gmock.h>

#include "tests/e2e/daemon_fixture.hpp"

namespace {

using namespace billpay::test;
using ::testing::HasSubstr;

class Cli : public daemon_fixture {
  protected:
    std::string billpayd(const std::string& args, int* status) {
        auto out = dir / "out.txt";
        *status = run_command(built_program("billpayd").string() + " " + args + " >" +
                              out.string() + " 2>&1");
        return read_file(out);
    }
    std::string billpayctl(const std::string& args, int* status) {
        auto out = dir / "out.txt";
        *status = run_command(built_program("billpayctl").string() + " " + args + " >" +
                              out.string() + " 2>&1");
        return read_file(out);
    }
};

TEST_F(Cli, CheckConfigAcceptsAValidFile) {
    auto file = write_config(dir.path(), config);
    int status = -1;
    auto out = billpayd("--config " + file.string() + " --check-config", &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_THAT(out, HasSubstr(": ok"));
}

TEST_F(Cli, CheckConfigPrintsEveryProblemWithFileLineAndColumnAndExitsOne) {
    config.threads = -3;
    config.extra_listen = "  colour: blue\n";
    auto file = write_config(dir.path(), config);
    int status = -1;
    auto out = billpayd("--config " + file.string() + " --check-config", &status);
    EXPECT_EQ(status, 1);
    EXPECT_THAT(out, HasSubstr(file.string() + ":4:12: listen.threads: must be between 1 and 256"));
    EXPECT_THAT(out, HasSubstr(file.string() + ":8:3: listen.colour: unknown key"));
}

TEST_F(Cli, CheckConfigRefusesARecoveryDelayShorterThanTheGatewayTimeout) {
    config.extra_root =
        "gateway:\n  timeout_ms: 20000\npayments:\n  recovery:\n"
        "    after_ms: 5000\n";
    auto file = write_config(dir.path(), config);
    int status = -1;
    auto out = billpayd("--config " + file.string() + " --check-config", &status);
    EXPECT_EQ(status, 1) << out;
    // FILE:LINE:COL of the key, and the smallest value allowed.
    EXPECT_THAT(out, ::testing::MatchesRegex(
                         "(.|\n)*" + file.string() +
                         ":[0-9]+:[0-9]+: payments\\.recovery\\.after_ms: must be at least 30000 "
                         "(.|\n)*"));
}

TEST_F(Cli, VersionIsPrinted) {
    int status = -1;
    EXPECT_THAT(billpayd("--version", &status), HasSubstr("billpayd "));
    EXPECT_EQ(status, 0);
}

TEST_F(Cli, HashKeyPrintsTheConfigLine) {
    write_file(dir / "key", "0123456789abcdef0123456789abcdef\n");
    int status = -1;
    auto out = billpayctl("hash-key < " + (dir / "key").string(), &status);
    EXPECT_EQ(status, 0);
    // sha256 of the key without its newline, as `printf %s KEY | sha256sum` gives it.
    auto expected = capture_command("printf %s 0123456789abcdef0123456789abcdef | sha256sum");
    EXPECT_EQ(out, "sha256:" + expected.substr(0, 64) + "\n");
}

TEST_F(Cli, HashKeyRefusesAShortKey) {
    write_file(dir / "key", "password\n");
    int status = -1;
    auto out = billpayctl("hash-key < " + (dir / "key").string(), &status);
    EXPECT_EQ(status, 1);
    EXPECT_THAT(out, HasSubstr("at least 32 characters"));
}

TEST_F(Cli, MigrateTwiceReportsTheSecondRunAsCurrent) {
    auto file = write_config(dir.path(), config);
    int status = -1;
    EXPECT_THAT(billpayctl("--config " + file.string() + " migrate", &status),
                HasSubstr("migrated schema from version 0 to"));
    EXPECT_EQ(status, 0);
    EXPECT_THAT(billpayctl("--config " + file.string() + " migrate", &status),
                HasSubstr("schema is current at version"));
    EXPECT_EQ(status, 0);
}

TEST_F(Cli, MigrateReportsAnUnreachableDatabase) {
    config.dsn = "host=/nonexistent-billpay-socket dbname=x";
    auto file = write_config(dir.path(), config);
    int status = -1;
    auto out = billpayctl("--config " + file.string() + " migrate", &status);
    EXPECT_EQ(status, 1);
    EXPECT_THAT(out, HasSubstr("billpayctl migrate:"));
}

TEST_F(Cli, BillpayctlRunsWithoutTheDaemonsSecretsAndSaysWhenItNeedsTheProcessors) {
    // As billpayd-reconcile.service runs it: no TLS key, no fingerprint key, no processor key.
    config.extra_root =
        "gateway:\n  processor: stripe\n  stripe:\n    secret_key_file: stripe-secret-key\n";
    auto file = write_config(dir.path(), config);
    std::filesystem::remove(dir / "fingerprint-key");
    std::filesystem::remove(config.server.key);
    int status = -1;
    auto out = billpayctl("--config " + file.string() + " migrate", &status);
    EXPECT_EQ(status, 0) << out;
    out =
        billpayctl("--config " + file.string() + " refund pay_x --reason 'billed twice'", &status);
    EXPECT_EQ(status, 2) << out;
    EXPECT_THAT(out, HasSubstr("the processor's credentials are not available here"));
    EXPECT_THAT(out, HasSubstr("nothing was refunded"));
    // The schedule run charges: it needs the processor's credentials and the fingerprint key.
    out = billpayctl("--config " + file.string() + " schedule run", &status);
    EXPECT_EQ(status, 2) << out;
    EXPECT_THAT(out, HasSubstr("nothing was charged"));
    out = billpayctl("--config " + file.string() + " schedule run --date 2026-02-30", &status);
    EXPECT_EQ(status, 2) << out;
    EXPECT_THAT(out, HasSubstr("--date must be a day"));
    // The daemon, given the same file, names what it lacks.
    out = billpayd("--config " + file.string() + " --check-config", &status);
    EXPECT_EQ(status, 1);
    EXPECT_THAT(out, HasSubstr("stripe-secret-key"));
}

}  // namespace
