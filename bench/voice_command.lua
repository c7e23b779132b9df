-- wrk script: POST /api/v1/voice/command with a mix of boutique requests.
-- Every 12 requests of a thread start a new shopper session and go through
-- the phrases in order, so follow-up turns ("in size small", "add the
-- second one") read that session's context.

local phrases = {
  "show me red dresses under one hundred dollars",
  "in size small",
  "add the second one",
  "silk sarees over 200 dollars",
  "tell me about the first one",
  "how much is it",
  "cotton kurtas between 20 and 40 dollars",
  "what is your return policy",
  "show me sneakers in size 8",
  "is the second one available in size 9",
  "open my cart",
  "hello",
}

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  turn = 0
  prefix = string.format("bench-%d-%d-%06d", thread_id or 0, os.time(), math.random(0, 999999))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  turn = turn + 1
  local text = phrases[(turn - 1) % #phrases + 1]
  local session = string.format("%s-%d", prefix, math.floor((turn - 1) / #phrases))
  local body = string.format('{"text": "%s", "session_id": "%s"}', text, session)
  return wrk.format(nil, "/api/v1/voice/command", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    "requests: %d, errors: connect %d read %d write %d status %d timeout %d\n",
    summary.requests, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("p%d: %.1f ms\n", p, latency:percentile(p) / 1000))
  end
end
