// The async_generator package's load_json_lines, read from a real TCP connection and consumed inside
// `async with aclosing(...)`: leaving the loop early still closes the generator, whose cleanup runs.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <cstdio>
#include <istream>
#include <string>

namespace ag = async_generator;
using asio::ip::tcp;

struct record {
  int id = 0;
  std::string name;
};

// json.loads for the one shape this stream carries: {"id": 1, "name": "alpha"}.
record parse_record(const std::string& line) {
  record r;
  char name[64] = {};
  if (std::sscanf(line.c_str(), "{\"id\": %d, \"name\": \"%63[^\"]\"}", &r.id, name) != 2) {
    throw std::invalid_argument("not a record: " + line);
  }
  r.name = name;
  return r;
}

// async def load_json_lines(stream_reader): async for line in stream_reader: yield json.loads(line)
const auto load_json_lines = ag::make_generator_function<record>([](ag::context<record> co, tcp::socket* stream) {
  asio::streambuf buffer;
  std::istream input(&buffer);
  try {
    for (;;) {
      ag::error_code ec;
      asio::async_read_until(*stream, buffer, '\n', co[ec]);
      if (ec == asio::error::eof) break;
      if (ec) throw ag::system_error(ec);
      std::string line;
      std::getline(input, line);
      ag::yield_(co, parse_record(line));
    }
  } catch (const ag::generator_exit&) {
    std::printf("load_json_lines: closed before the end of the stream\n");
    throw;
  }
});

int main() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));

  // The peer: sends five records, one per line.
  asio::spawn(io, [&](asio::yield_context yield) {
    tcp::socket peer = acceptor.async_accept(yield);
    const char* names[] = {"alpha", "beta", "gamma", "delta", "epsilon"};
    std::string lines;
    for (int i = 0; i < 5; ++i) lines += "{\"id\": " + std::to_string(i + 1) + ", \"name\": \"" + names[i] + "\"}\n";
    asio::async_write(peer, asio::buffer(lines), yield);
  }, asio::detached);

  asio::spawn(io, [&](asio::yield_context yield) {
    tcp::socket stream(io);
    stream.async_connect(acceptor.local_endpoint(), yield);
    // async with aclosing(load_json_lines(stream)) as agen: async for json_obj in agen: ...
    ag::async_with(ag::aclosing(load_json_lines(io, &stream)), yield, [&](ag::async_generator<record>& agen) {
      for (const record& obj : ag::aiter(agen, yield)) {
        std::printf("record %d: %s\n", obj.id, obj.name.c_str());
        if (obj.id == 3) break;
      }
    });
    std::printf("done reading\n");
  }, asio::detached);

  io.run();
}
