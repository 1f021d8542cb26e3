// The demo: a real pipeline over a loopback TCP connection (the README's first command).
//
// A server streams a sensor's readings as JSON lines. The client parses them with load_json_lines
// (the async_generator package's own example, on Boost.JSON) through wrap_load_json_lines, which
// delegates to it with yield_from_; a stage driven by asend processes each reading and acknowledges
// it back over the connection. The connection is an asynccontextmanager and the stages are closed
// by aclosing. When the server stalls, a timeout cancels the client's wait, down to the socket read
// inside load_json_lines; shutdown_asyncgens then closes what is left, as asyncio.run does.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <istream>
#include <stdexcept>
#include <string>
#include <tuple>

namespace ag = async_generator;
namespace json = boost::json;
using asio::ip::tcp;
using std::chrono::milliseconds;

constexpr int burst = 5;                   // readings the server sends before it stalls
constexpr milliseconds idle_timeout{300};  // how long the client waits for the next reading

// What each side saw, for the summary.
struct {
  int samples = 0, sent = 0, received = 0, acknowledged = 0, acks_read = -1, timeouts = 0;
  double mean = 0;
  bool read_cancelled = false, connection_closed = false, sensor_closed = false;
} seen;
const char* yes_no(bool b) { return b ? "yes" : "no"; }

// ---- Shared by both ends: JSON lines from a socket ----

// async def load_json_lines(stream_reader):     the package's example, which also returns the
//     async for line in stream_reader:            number of lines it read at the end of the stream
//         await yield_(json.loads(line))
const auto load_json_lines = ag::make_generator_function<json::value, void, int>(
    [](ag::context<json::value> co, tcp::socket* stream) {
      asio::streambuf buffer;
      std::istream input(&buffer);
      for (int lines = 0;; ++lines) {
        ag::error_code ec;
        asio::async_read_until(*stream, buffer, '\n', co[ec]);
        if (ec == asio::error::eof) return lines;  // return lines: carried by StopAsyncIteration
        if (ec == asio::error::operation_aborted) {
          seen.read_cancelled = true;
          std::printf("load_json_lines: read cancelled (%s)\n", ec.message().c_str());
        }
        if (ec) throw ag::system_error(ec);  // operation_aborted: asyncio's CancelledError
        std::string line;
        std::getline(input, line);
        ag::yield_(co, json::parse(line));
      }
    });

// ---- The server ----

// async def sensor(name):                       a reading every 5 ms, forever; the cleanup awaits
//     try:
//         for seq in itertools.count(1):
//             await asyncio.sleep(0.005); yield {"seq": seq, "sensor": name, "celsius": ...}
//     finally:
//         await asyncio.sleep(0.005)            # powering down takes a while
const auto sensor = ag::make_generator_function<json::value>([](ag::context<json::value> co, std::string name) {
  static const int celsius[] = {68, 70, 71, 73, 72, 74, 75};
  asio::steady_timer timer(co.get_executor());
  std::exception_ptr raised;
  try {
    for (int seq = 1;; ++seq) {
      timer.expires_after(milliseconds(5));
      timer.async_wait(co);
      seen.samples = seq;
      ag::yield_(co, json::object{{"seq", seq}, {"sensor", name}, {"celsius", celsius[(seq - 1) % 7]}});
    }
  } catch (...) {
    raised = std::current_exception();  // GeneratorExit; the cleanup awaits: never inside a catch
  }
  timer.expires_after(milliseconds(5));
  timer.async_wait(co);
  seen.sensor_closed = true;
  std::printf("sensor: powered down after %d samples\n", seen.samples);
  if (raised) std::rethrow_exception(raised);
});

// async def serve(listener, readings):          one client: a reading per acknowledgement, then
//     async for reading in readings: ...        a stall, the connection left open
void serve(tcp::acceptor& acceptor, ag::async_generator<json::value>& readings, asio::yield_context yield) {
  tcp::socket peer = acceptor.async_accept(yield);
  std::printf("server: accepted a connection\n");
  auto acks = load_json_lines(acceptor.get_executor(), &peer);  // the acknowledgements: JSON lines too
  for (const json::value& reading : ag::aiter(readings, yield)) {
    std::string line = json::serialize(reading) + "\n";
    asio::async_write(peer, asio::buffer(line), yield);
    std::printf("server: sent %s", line.c_str());
    if (acks.anext(yield).as_object().at("ack") != reading.as_object().at("seq")) {  // flow control
      throw std::runtime_error("server: wrong acknowledgement");
    }
    if (++seen.sent == burst) break;  // leaving the loop does not close `readings` (as in Python)
  }
  std::printf("server: stalls, the connection open\n");
  try {
    acks.anext(yield);  // the client sends nothing more: this ends when it hangs up
  } catch (const ag::stop_async_iteration& end) {
    seen.acks_read = end.value<int>();  // load_json_lines' return value
  }
  std::printf("server: the client hung up; load_json_lines returned %d\n", seen.acks_read);
}

// ---- The client ----

// @asynccontextmanager
// async def connection(address):
//     stream = await open_connection(address)
//     try: yield stream
//     finally: stream.close()
const auto connection = ag::asynccontextmanager(
    ag::make_generator_function<tcp::socket*>([](ag::context<tcp::socket*> co, tcp::endpoint address) {
      tcp::socket stream(co.get_executor());
      stream.async_connect(address, co);
      std::printf("client: connected to %s:%u\n", address.address().to_string().c_str(),
                  static_cast<unsigned>(address.port()));
      std::exception_ptr raised;
      try {
        ag::yield_(co, &stream);
      } catch (...) {
        raised = std::current_exception();  // what the block raised, thrown in here
      }
      stream.close();
      seen.connection_closed = true;
      std::printf("client: connection closed\n");
      if (raised) std::rethrow_exception(raised);
    }));

// async def wrap_load_json_lines(stream_reader):       yields what load_json_lines yields,
//     return await yield_from_(load_json_lines(stream_reader))   and returns what it returns
const auto wrap_load_json_lines = ag::make_generator_function<json::value, void, int>(
    [](ag::context<json::value> co, tcp::socket* stream) {
      return ag::yield_from_(co, load_json_lines(co.get_executor(), stream));
    });

// async def acknowledge(writer):                driven by asend: processes each reading sent in
//     total = count = 0                         (a running mean), acknowledges it to the server,
//     while True:                               and yields the mean
//         reading = await yield_(total / count if count else 0)
//         total += reading["celsius"]; count += 1
//         writer.write(json.dumps({"ack": reading["seq"]}) + "\n"); await writer.drain()
const auto acknowledge = ag::make_generator_function<double, json::value>(
    [](ag::context<double, json::value> co, tcp::socket* stream) {
      double total = 0;
      int count = 0;
      try {
        for (;;) {
          auto reading = ag::yield_(co, count == 0 ? 0.0 : total / count);
          if (!reading) continue;  // resumed by anext (the priming): nothing was sent
          const json::object& r = reading->as_object();
          total += r.at("celsius").to_number<double>();
          ++count;
          std::string ack = json::serialize(json::object{{"ack", r.at("seq")}}) + "\n";
          asio::async_write(*stream, asio::buffer(ack), co);
        }
      } catch (const ag::generator_exit&) {
        seen.acknowledged = count;
        std::printf("acknowledge: closed after %d acknowledgements\n", count);
        throw;
      }
    });

// reading = await asyncio.wait_for(gen.__anext__(), limit), false on timeout. The timer and the
// anext race in a parallel group; when the timer wins, the group cancels the anext.
template <class Generator>
bool next_within(Generator& gen, milliseconds limit, json::value& reading, const asio::yield_context& yield) {
  asio::steady_timer deadline(yield.get_executor(), limit);
  std::array<std::size_t, 2> order;
  std::exception_ptr error;
  ag::error_code timer_error;
  std::tie(order, error, reading, timer_error) =
      asio::experimental::make_parallel_group(gen.anext(asio::deferred), deadline.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), yield);
  if (order[0] == 1) return false;  // the deadline came first (the cancelled anext's error is dropped)
  if (error) std::rethrow_exception(error);
  return true;
}

void client(asio::io_context& io, tcp::endpoint server, asio::yield_context yield) {
  // async with connection(server) as stream:
  ag::async_with(connection(io, server), yield, [&](tcp::socket* stream) {
    auto acks = acknowledge(io, stream);
    acks.anext(yield);  // started, so that it can be sent values: await acks.asend(None)
    // async with aclosing(acks), aclosing(wrap_load_json_lines(stream)) as readings:
    ag::async_with(ag::aclosing(acks), yield, [&](ag::async_generator<double, json::value>&) {
      ag::async_with(ag::aclosing(wrap_load_json_lines(io, stream)), yield, [&](auto& readings) {
        json::value reading;
        while (next_within(readings, idle_timeout, reading, yield)) {
          seen.mean = acks.asend(reading, yield);  // mean = await acks.asend(reading)
          ++seen.received;
          const json::object& r = reading.as_object();
          std::printf("client: reading %d from %s: %d C, acknowledged (mean %.1f C)\n",
                      static_cast<int>(r.at("seq").as_int64()), r.at("sensor").as_string().c_str(),
                      static_cast<int>(r.at("celsius").as_int64()), seen.mean);
        }
        ++seen.timeouts;
        std::printf("client: no reading within %d ms: gives up\n", static_cast<int>(idle_timeout.count()));
      });
    });
  });
}

int main() {
  const auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  std::printf("server: listening on 127.0.0.1:%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  auto readings = sensor(io, "boiler");  // lives as long as the program, like a module-level generator

  asio::spawn(io, [&](asio::yield_context yield) { serve(acceptor, readings, yield); }, rethrow);
  asio::spawn(io, [&](asio::yield_context yield) { client(io, acceptor.local_endpoint(), yield); }, rethrow);
  io.run();  // asyncio.run(main()): until the server and the client are done...

  // ...then, before the loop goes: await loop.shutdown_asyncgens(), which closes the sensor.
  ag::shutdown_asyncgens(io, [](std::exception_ptr) { std::printf("shutdown_asyncgens: done\n"); });
  io.restart();
  io.run();

  std::printf("summary: readings sent %d, received %d, acknowledged %d (mean %.1f C)\n", seen.sent, seen.received,
              seen.acknowledged, seen.mean);
  std::printf("summary: acknowledgements read by the server %d (load_json_lines' return value)\n", seen.acks_read);
  std::printf("summary: timeouts %d (%d ms), socket read cancelled %s, connection closed %s\n", seen.timeouts,
              static_cast<int>(idle_timeout.count()), yes_no(seen.read_cancelled), yes_no(seen.connection_closed));
  std::printf("summary: sensor closed by shutdown_asyncgens %s, after %d samples\n", yes_no(seen.sensor_closed),
              seen.samples);
}
