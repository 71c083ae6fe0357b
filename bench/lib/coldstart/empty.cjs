// Cold start baseline: a Node process that loads nothing (its wall time is Node's own start-up).
process.stdout.write(JSON.stringify({ sub: JSON.parse(process.env.COLDSTART).expectSub }));
