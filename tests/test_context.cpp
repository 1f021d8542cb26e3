// context.hpp: a body's context, used as a completion token that awaits any Asio operation.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// An endpoint on the loopback interface where nothing listens (a port that was just released).
tcp::endpoint closed_port(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::endpoint endpoint = acceptor.local_endpoint();
  acceptor.close();
  return endpoint;
}

}  // namespace

TEST_CASE("co as a completion token suspends the body until a real steady_timer expires") {
  asio::io_context io;
  steady_clock::duration waited{};
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::steady_timer timer(co.get_executor(), milliseconds(2));
    const auto start = steady_clock::now();
    timer.async_wait(co);
    waited = steady_clock::now() - start;
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(waited >= milliseconds(2));
}

TEST_CASE("co returns the operation's result: async_read_until returns the byte count") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  asio::write(client, asio::buffer(std::string("hello\nrest")));
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::streambuf buf;
    const std::size_t n = asio::async_read_until(server, buf, '\n', co);
    ag::yield_(co, static_cast<int>(n));
  });
  CHECK(anext(io, g).value == 6);
}

TEST_CASE("co[ec] stores a cancelled timer's operation_aborted in ec instead of throwing") {
  asio::io_context io;
  ag::error_code ec;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::steady_timer timer(co.get_executor(), std::chrono::hours(1));
    asio::post(co.get_executor(), [&] { timer.cancel(); });
    timer.async_wait(co[ec]);
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(ec == asio::error::operation_aborted);
}

TEST_CASE("co[ec] stores connection_refused from connecting to a closed port instead of throwing") {
  asio::io_context io;
  const tcp::endpoint nowhere = closed_port(io);
  ag::error_code ec;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    tcp::socket socket(co.get_executor());
    socket.async_connect(nowhere, co[ec]);
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(ec == asio::error::connection_refused);
}

TEST_CASE("co[ec] clears ec when the operation succeeds") {
  asio::io_context io;
  ag::error_code ec = asio::error::timed_out;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::steady_timer timer(co.get_executor(), milliseconds(1));
    timer.async_wait(co[ec]);
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK_FALSE(ec);
}

TEST_CASE("an await's error_code without [ec] is thrown as ag::system_error") {
  asio::io_context io;
  const tcp::endpoint nowhere = closed_port(io);
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    tcp::socket socket(co.get_executor());
    try {
      socket.async_connect(nowhere, co);
    } catch (const ag::system_error& e) {
      ag::yield_(co, e.code() == asio::error::connection_refused ? 1 : -1);
    }
  });
  CHECK(anext(io, g).value == 1);
}

TEST_CASE("an await's error left uncaught ends the generator with system_error") {
  asio::io_context io;
  const tcp::endpoint nowhere = closed_port(io);
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    tcp::socket socket(co.get_executor());
    socket.async_connect(nowhere, co);
    ag::yield_(co, 1);
  });
  outcome<int> o = anext(io, g);
  REQUIRE(o.error);
  try {
    std::rethrow_exception(o.error);
  } catch (const ag::system_error& e) {
    CHECK(e.code() == asio::error::connection_refused);
  }
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("a body reads lines from a real TCP socket through co and yields each one") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(io);
  auto lines = ag::make_async_generator<std::string>(io, [&](ag::context<std::string> co) {
    tcp::socket server(co.get_executor());
    acceptor.async_accept(server, co);
    asio::streambuf buf;
    for (;;) {
      ag::error_code ec;
      const std::size_t n = asio::async_read_until(server, buf, '\n', co[ec]);
      if (ec == asio::error::eof) return;
      if (ec) throw ag::system_error(ec);
      std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n - 1));
      buf.consume(n);
      ag::yield_(co, std::move(line));
    }
  });

  // The writer sends a line, in two pieces, each time the previous one has arrived.
  const std::vector<std::string> to_send{"alpha", "beta", "gamma"};
  std::vector<std::string> got;
  std::exception_ptr end;
  std::size_t sent = 0;
  std::function<void()> send_next = [&] {
    if (sent == to_send.size()) {
      client.shutdown(tcp::socket::shutdown_send);
      return;
    }
    const std::string& line = to_send[sent++];
    asio::write(client, asio::buffer(line.substr(0, 2)));
    asio::post(io, [&client, rest = line.substr(2) + "\n"] { asio::write(client, asio::buffer(rest)); });
  };
  std::function<void()> pull = [&] {
    lines.anext([&](std::exception_ptr e, std::string line) {
      if (e) {
        end = e;
        return;
      }
      got.push_back(std::move(line));
      send_next();
      pull();
    });
  };
  client.async_connect(acceptor.local_endpoint(), [&](ag::error_code ec) {
    REQUIRE_FALSE(ec);
    send_next();
  });
  pull();
  io.run();
  CHECK(got == to_send);
  CHECK(is_stop(end));
}

TEST_CASE("co.get_executor() is the generator's executor, and the body runs on it") {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  bool on_strand = false;
  auto g = ag::make_async_generator<int>(strand, [&](ag::context<int> co) {
    CHECK(co.get_executor() == asio::any_io_executor(strand));
    on_strand = strand.running_in_this_thread();
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(on_strand);
}

TEST_CASE("an await completing on another thread's io_context resumes the body on the generator's executor") {
  io_thread other;
  asio::io_context io;
  std::thread::id resumed_on;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::steady_timer timer(other.io, milliseconds(1));
    timer.async_wait(co);
    resumed_on = std::this_thread::get_id();
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(resumed_on == std::this_thread::get_id());
}

TEST_CASE("an await completing on another thread's io_context resumes a body on a strand inside its strand") {
  io_thread other;
  asio::io_context io;
  auto strand = asio::make_strand(io);
  bool on_strand = false;
  auto g = ag::make_async_generator<int>(strand, [&](ag::context<int> co) {
    asio::steady_timer timer(other.io, milliseconds(1));
    timer.async_wait(co);
    on_strand = strand.running_in_this_thread();
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(on_strand);
}

TEST_CASE("a body consuming a generator of another executor through co gets its values and its errors") {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  auto inner = ag::make_async_generator<int>(strand, [](ag::context<int> co) {
    ag::yield_(co, 1);
    ag::yield_(co, 2);
    throw std::out_of_range("inner failed");
  });
  auto outer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      for (;;) ag::yield_(co, 10 * inner.anext(co));
    } catch (const std::out_of_range& e) {
      ag::yield_(co, std::string(e.what()) == "inner failed" ? -1 : -2);
    }
  });
  CHECK(collect(io, outer) == std::vector<int>{10, 20, -1});
}

namespace {
// Another generator's context, kept while that generator (`keeper`) stays suspended at its first
// yield; `*saved` is the context.
struct kept_context {
  explicit kept_context(asio::io_context& io)
      : keeper(ag::make_async_generator<int>(io, [this](ag::context<int> co) {
          context.emplace(co);
          ag::yield_(co, 0);
          ag::yield_(co, 1);
        })) {
    anext(io, keeper);
    REQUIRE(static_cast<bool>(context));
  }
  const ag::context<int>& operator*() const { return *context; }

  ag::compat::optional<ag::context<int>> context;
  ag::async_generator<int> keeper;
};
}  // namespace

TEST_CASE("yield_ with another generator's context throws misuse_error") {
  asio::io_context io;
  kept_context saved(io);
  std::string message;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      ag::yield_(*saved, 5);
    } catch (const ag::misuse_error& e) {
      message = e.what();
    }
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(message == "yield_: the context does not belong to the async generator running on this fiber");
  CHECK(anext(io, saved.keeper).value == 1);  // the misuse left the other generator alone
}

TEST_CASE("yield_ outside any generator's fiber throws misuse_error") {
  asio::io_context io;
  kept_context saved(io);
  CHECK_THROWS_WITH_AS(ag::yield_(*saved, 5),
                       "yield_: the context does not belong to the async generator running on this fiber",
                       ag::misuse_error);
  CHECK(anext(io, saved.keeper).value == 1);
}

TEST_CASE("yield_ from a handler while the body awaits throws misuse_error") {
  asio::io_context io;
  std::string message;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::steady_timer timer(co.get_executor(), milliseconds(1));
    asio::post(co.get_executor(), [&message, co] {
      try {
        ag::yield_(co, 5);
      } catch (const ag::misuse_error& e) {
        message = e.what();
      }
    });
    timer.async_wait(co);
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(message == "yield_: the context does not belong to the async generator running on this fiber");
}

TEST_CASE("awaiting an Asio operation with another generator's context throws misuse_error") {
  asio::io_context io;
  kept_context saved(io);
  std::string message;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::steady_timer timer(co.get_executor(), milliseconds(1));
    try {
      timer.async_wait(*saved);
    } catch (const ag::misuse_error& e) {
      message = e.what();
    }
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(message == "await: the context does not belong to the async generator running on this fiber");
}

TEST_CASE("consuming a generator with another generator's context throws misuse_error") {
  asio::io_context io;
  kept_context saved(io);
  auto inner = async_range(io, 3);
  std::string message;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      inner.anext(*saved);
    } catch (const ag::misuse_error& e) {
      message = e.what();
    }
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(message == "await: the context does not belong to the async generator running on this fiber");
  CHECK(collect(io, inner) == std::vector<int>{0, 1, 2});  // inner did not start
}

namespace {
// The context of a generator that ran to its end and was destroyed, its stack back in the pool.
ag::context<int> stale_context(asio::io_context& io) {
  ag::compat::optional<ag::context<int>> kept;
  auto g = ag::make_async_generator<int>(io, [&kept](ag::context<int> co) {
    kept.emplace(co);
    ag::yield_(co, 0);
  });
  CHECK(anext(io, g).value == 0);
  CHECK(is_stop(anext(io, g).error));
  return *kept;
}
const char* const not_the_running_body_yield =
    "yield_: the context does not belong to the async generator running on this fiber";
const char* const not_the_running_body_await =
    "await: the context does not belong to the async generator running on this fiber";
}  // namespace

TEST_CASE("a context used after its generator was destroyed throws misuse_error, the freed generator not read") {
  asio::io_context io;
  const ag::context<int> stale = stale_context(io);
  CHECK_THROWS_WITH_AS(ag::yield_(stale, 5), not_the_running_body_yield, ag::misuse_error);
  asio::steady_timer timer(io, milliseconds(1));
  CHECK_THROWS_WITH_AS(timer.async_wait(stale), not_the_running_body_await, ag::misuse_error);
  auto inner = async_range(io, 2);
  CHECK_THROWS_WITH_AS(inner.anext(stale), not_the_running_body_await, ag::misuse_error);
  CHECK(collect(io, inner) == std::vector<int>{0, 1});  // inner did not start
}

TEST_CASE("a dead generator's context used by the body that took over its stack throws misuse_error") {
  asio::io_context io;
  const ag::context<int> stale = stale_context(io);
  std::vector<std::string> messages;
  // The next generator takes the stack the dead one gave back (the pool is last in, first out), so
  // the stale context's bounds hold the code that uses it: the stack's owner tells them apart.
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto attempt = [&](const std::function<void()>& misuse) {
      try {
        misuse();
      } catch (const ag::misuse_error& e) {
        messages.push_back(e.what());
      }
    };
    attempt([&] { ag::yield_(stale, 5); });
    attempt([&] { asio::post(stale); });
    attempt([&] { ag::yield_from_(stale, async_range(io, 2)); });
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(messages == std::vector<std::string>{not_the_running_body_yield, not_the_running_body_await,
                                             not_the_running_body_yield});
}
