#include "tests/support/haproxy_process.hpp"

#include <sstream>
#include <stdexcept>
#include <thread>

namespace billpay::test {

haproxy_process::haproxy_process(const std::vector<unsigned short>& backend_ports)
    : port_(unused_port()), stats_port_(unused_port()) {
    std::string cfg =
        "global\n"
        "    maxconn 2000\n"
        "defaults\n"
        "    mode tcp\n"
        "    timeout connect 1s\n"
        "    timeout client 30s\n"
        "    timeout server 30s\n"
        "    retries 2\n"
        "    option redispatch\n"
        "frontend billpayd\n"
        "    bind 127.0.0.1:" +
        std::to_string(port_) +
        "\n"
        "    default_backend billpayd\n"
        "backend billpayd\n"
        "    balance roundrobin\n"
        "    option httpchk\n"
        "    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost\n"
        "    http-check expect status 200\n"
        "    default-server check check-ssl verify none inter 250ms fall 2 rise 2\n";
    for (std::size_t i = 0; i < backend_ports.size(); ++i) {
        cfg += "    server billpayd-" + std::to_string(i + 1) +
               " 127.0.0.1:" + std::to_string(backend_ports[i]) + "\n";
    }
    cfg +=
        "listen stats\n"
        "    mode http\n"
        "    bind 127.0.0.1:" +
        std::to_string(stats_port_) +
        "\n"
        "    timeout client 5s\n"
        "    stats enable\n"
        "    stats uri /stats\n";
    write_file(dir_ / "haproxy.cfg", cfg);
    if (run_command("haproxy -c -q -f " + (dir_ / "haproxy.cfg").string()) != 0) {
        throw std::runtime_error("haproxy -c refused the configuration");
    }
    process_ = std::make_unique<child_process>(
        std::vector<std::string>{"/usr/sbin/haproxy", "-db", "-f", (dir_ / "haproxy.cfg").string()},
        dir_ / "haproxy.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server_states().size() != backend_ports.size()) {
        if (std::chrono::steady_clock::now() > deadline || process_->wait_exit({})) {
            throw std::runtime_error("haproxy did not start; its output:\n" + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::map<std::string, std::string> haproxy_process::server_states() const {
    std::istringstream csv(capture_command(
        "curl -s --max-time 2 'http://127.0.0.1:" + std::to_string(stats_port_) + "/stats;csv'"));
    std::map<std::string, std::string> states;
    std::string line;
    std::size_t status_column = std::string::npos;
    while (std::getline(csv, line)) {
        std::vector<std::string> fields;
        std::istringstream cells(line);
        for (std::string cell; std::getline(cells, cell, ',');) {
            fields.push_back(cell);
        }
        if (line.starts_with("# ")) {
            for (std::size_t i = 0; i < fields.size(); ++i) {
                if (fields[i] == "status") {
                    status_column = i;
                }
            }
        } else if (status_column < fields.size() && fields[0] == "billpayd" &&
                   fields[1].starts_with("billpayd-")) {
            states[fields[1]] = fields[status_column];
        }
    }
    return states;
}

bool haproxy_process::wait_for(const std::string& server, const std::string& state,
                               std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        if (server_states()[server] == state) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

bool haproxy_process::wait_for_all(const std::string& state,
                                   std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        auto states = server_states();
        bool all = !states.empty();
        for (const auto& [server, s] : states) {
            all = all && s == state;
        }
        if (all) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

std::string haproxy_process::log() const { return read_file(process_->output()); }

}  // namespace billpay::test
