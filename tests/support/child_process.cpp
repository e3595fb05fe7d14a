#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

namespace billpay::test {

child_process::child_process(std::vector<std::string> args, std::filesystem::path output,
                             std::map<std::string, std::string> env)
    : output_(std::move(output)) {
    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid_ != 0) {
        return;
    }
    // If the test process dies without its destructors (a crash, ctest's timeout), take the
    // child with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(output_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        ::dup2(fd, STDERR_FILENO);
        ::dup2(fd, STDOUT_FILENO);
    }
    // Nothing else of the test process goes along: an inherited listening socket of a fake
    // would keep its port bound (and its connections unanswered) after the fake stops.
    ::close_range(3, ~0U, 0);
    for (const auto& [key, value] : env) {
        std::string v = value;
        if (key == "JOURNAL_STREAM" && v == "=stderr") {
            struct stat st {};
            ::fstat(STDERR_FILENO, &st);
            v = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
        }
        ::setenv(key.c_str(), v.c_str(), 1);
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(args.front().c_str(), argv.data());
    ::_exit(127);
}

child_process::~child_process() {
    if (pid_ > 0 && !exit_code_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

void child_process::send_signal(int signal) {
    if (!exit_code_) {
        ::kill(pid_, signal);
    }
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
    if (exit_code_) {
        return exit_code_;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return exit_code_;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

unsigned short unused_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        throw std::runtime_error("socket failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find an unused port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace billpay::test
