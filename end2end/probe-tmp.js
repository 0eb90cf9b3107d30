const { chromium } = require('@playwright/test');
(async () => {
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium', ignoreDefaultArgs: ['--mute-audio', '--headless'], args: ['--headless=new', '--use-fake-ui-for-media-stream','--autoplay-policy=no-user-gesture-required'], env: { ...process.env, PULSE_SERVER: 'unix:/tmp/pulse-rt/pulse/native', XDG_RUNTIME_DIR: '/tmp/pulse-rt' } });
  const p = await b.newPage();
  await p.goto('http://127.0.0.1:8765/');
  const r = await p.evaluate(async () => {
    const s = await navigator.mediaDevices.getUserMedia({audio:{echoCancellation:false,noiseSuppression:false,autoGainControl:false}});
    const t = s.getAudioTracks()[0];
    const settings = t.getSettings();
    const ctx = new AudioContext({sampleRate: settings.sampleRate});
    await ctx.audioWorklet.addModule('/capture-processor.js');
    const src = ctx.createMediaStreamSource(s);
    const node = new AudioWorkletNode(ctx, 'capture-processor', {channelCount:1, channelCountMode:'explicit'});
    const blocks = [];
    node.port.onmessage = (e) => blocks.push(e.data);
    src.connect(node); node.connect(ctx.destination);
    await new Promise(r => setTimeout(r, 500));
    const osc = ctx.createOscillator(); osc.frequency.value = 1000; osc.connect(ctx.destination);
    const at = ctx.currentTime + 0.5;
    osc.start(at); osc.stop(at + 0.3);
    await new Promise(r => setTimeout(r, 2000));
    let peak = 0; let firstLoud = null;
    for (const blk of blocks) for (let i = 0; i < blk.samples.length; i++) { const a = Math.abs(blk.samples[i]); if (a > peak) peak = a; if (a > 0.1 && firstLoud === null) firstLoud = blk.frame + i; }
    return JSON.stringify({label: t.label, sr: settings.sampleRate, rate: ctx.sampleRate, blocks: blocks.length, peak, firstLoud, scheduled: Math.round(at * ctx.sampleRate), base: ctx.baseLatency, out: ctx.outputLatency});
  });
  console.log(r);
  await b.close();
})();
