-- One request repeated by wrk, and one line of JSON at the end for the harness.
--
-- Arguments after "--": the method, the body ("" for none), then headers as
-- "Name: value". Errors are wrk's own counts: responses with a status of 400
-- or more, and connect, read, write and timeout errors of the sockets.

function init(args)
  wrk.method = args[1]
  if args[2] ~= "" then
    wrk.body = args[2]
  end
  for i = 3, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK-SUMMARY {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, '
      .. '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors.status, errors.connect,
    errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
