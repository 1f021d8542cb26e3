// aclosing(thing) of a thing with no get_executor() must be told where its operations complete.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <exception>

namespace ag = async_generator;

struct closable {
  template <class Token>
  void aclose(Token&&) {}
};

int main() {
  asio::io_context io;
  closable thing;
#ifdef COMPILE_FAIL_CONTROL
  auto manager = ag::aclosing(thing, io.get_executor());
#else
  auto manager = ag::aclosing(thing);
#endif
  (void)manager;
}
