-- wrk script for scripts/bench: POST /api/v1/verify {"card": "shc:/..."} with the cards that
-- `hb_load issue --save-cards` wrote (one shc:/ text a line), round-robin, each wrk thread from its
-- own place in the list. An answer counts as good only when it is 200 with "outcome":"valid";
-- done() prints "verify answers: N good, M not (...)" for scripts/bench to count the others as
-- errors (wrk itself counts only non-2xx and socket errors).
-- Environment: HB_CARDS (the file of cards).
local cards_file = os.getenv("HB_CARDS") or "cards.txt"
local headers = { ["Content-Type"] = "application/json" }

local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local bodies = {}
local next_card = 1
good, not_valid, not_200 = 0, 0, 0

function init(args)
  for line in io.lines(cards_file) do
    if line:sub(1, 5) == "shc:/" then
      -- shc:/ text is digits after the prefix: nothing to escape in JSON.
      table.insert(bodies, wrk.format("POST", "/api/v1/verify", headers, '{"card":"' .. line .. '"}'))
    end
  end
  if #bodies == 0 then error("no shc:/ cards in " .. cards_file) end
  next_card = 1 + (id * 997) % #bodies
end

function request()
  local r = bodies[next_card]
  next_card = next_card % #bodies + 1
  return r
end

function response(status, headers, body)
  if status ~= 200 then
    not_200 = not_200 + 1
  elseif body:find('"outcome":"valid"', 1, true) then
    good = good + 1
  else
    not_valid = not_valid + 1
  end
end

function done(summary, latency, requests)
  local g, nv, n2 = 0, 0, 0
  for _, t in ipairs(threads) do
    g = g + (t:get("good") or 0)
    nv = nv + (t:get("not_valid") or 0)
    n2 = n2 + (t:get("not_200") or 0)
  end
  io.write(string.format("verify answers: %d good, %d not (%d 200 without a valid verdict, %d not 200)\n",
    g, nv + n2, nv, n2))
end
