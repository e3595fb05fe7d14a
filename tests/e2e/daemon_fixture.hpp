#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "tests/support/daemon_process.hpp"
#include "tests/support/https_client.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_database.hpp"
#include "tests/support/tls_files.hpp"

namespace billpay::test {

/// One test's world: a database of its own (migrated with billpayctl, as operators do), a CA
/// and server certificate, and a config for the real billpayd binary.
class daemon_fixture : public ::testing::Test {
  protected:
    void SetUp() override {
        ca = make_ca(dir.path(), "test-ca");
        server_cert = make_certificate(dir.path(), "server", "localhost", ca);
        config.dsn = database.dsn();
        config.server = server_cert;
    }

    /// Migrates the test database through `billpayctl migrate`.
    void migrate() {
        auto file = write_config(dir.path(), config);
        ASSERT_EQ(run_command(built_program("billpayctl").string() + " --config " + file.string() +
                              " migrate >/dev/null"),
                  0);
    }

    /// Writes the config, migrates, starts billpayd and waits until it is ready.
    daemon_process& start(std::map<std::string, std::string> env = {}) {
        migrate();
        daemon = std::make_unique<daemon_process>(dir / "billpayd.yaml", std::move(env));
        daemon->wait_ready();
        return *daemon;
    }

    https_client client(client_tls tls = {}) {
        return https_client(daemon->port(), std::move(tls));
    }

    temp_dir dir;
    test_database database;
    tls_files ca;
    tls_files server_cert;
    daemon_config config;
    std::unique_ptr<daemon_process> daemon;
};

}  // namespace billpay::test
