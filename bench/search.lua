-- wrk script for scripts/bench: GET /fhir/Observation?patient=X&code=Y over random synthetic
-- patients (UUID-shaped ids: hex of the prefix's first 6 bytes, kind 0000, the patient's number,
-- as hb_load's bench_id makes them) and the five LOINC codes.
-- Environment: HB_TOKEN (access token), HB_PATIENTS (how many patients), HB_PREFIX (id prefix).
local token = os.getenv("HB_TOKEN") or ""
local patients = tonumber(os.getenv("HB_PATIENTS") or "10000")
local prefix = os.getenv("HB_PREFIX") or "bp"
local codes = { "8867-4", "8480-6", "8462-4", "29463-7", "2339-0" }
local headers = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/fhir+json" }

local function prefix_hex(p)
  local out = ""
  for i = 1, 6 do out = out .. string.format("%02x", p:byte(i) or 0) end
  return out:sub(1, 8) .. "-" .. out:sub(9, 12)
end
local id_head = prefix_hex(prefix)

local counter = 1
function setup(thread)
  thread:set("seed", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(1000 + (seed or 0))
end

function request()
  local p = math.random(0, patients - 1)
  local c = codes[math.random(1, #codes)]
  local path = string.format("/fhir/Observation?patient=%s-0000-8000-%012x&code=http://loinc.org%%7C%s", id_head, p, c)
  return wrk.format("GET", path, headers)
end
