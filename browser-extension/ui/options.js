"use strict";

const FIELDS = ["collector_url", "enrolment_token", "device_name", "heartbeat_minutes"];

async function show() {
  const answer = await chrome.runtime.sendMessage({ type: "status" });
  document.getElementById("status").textContent = JSON.stringify(
    { ...answer, config: answer.config && { ...answer.config, enrolment_token: answer.config.enrolment_token ? "(set)" : "" } },
    null,
    2,
  );
}

async function init() {
  const { config = {} } = await chrome.storage.local.get("config");
  for (const name of FIELDS) document.getElementById(name).value = config[name] || "";
  document.getElementById("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const next = {};
    for (const name of FIELDS) next[name] = document.getElementById(name).value.trim();
    await chrome.storage.local.set({ config: next });
    await chrome.runtime.sendMessage({ type: "sync" });
    await show();
  });
  await show();
  setInterval(show, 3000);
}

init();
