// kafkajs against Weir's Kafka front door: creates a topic, produces keyed records with headers
// (gzip), consumes them in a consumer group, commits, and prints what it saw as JSON.
// Usage: node roundtrip.js HOST:PORT TOPIC
const { Kafka, CompressionTypes, logLevel } = require("kafkajs");

async function main() {
  const [broker, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: "weir-smoke", brokers: [broker], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = [];
  for (let i = 0; i < 10; i++) {
    messages.push({ key: `k${i}`, value: `v${i}`, partition: i % 2, headers: { n: `${i}` } });
  }
  const sent = await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.GZIP });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} messages`)), 60000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({
          partition,
          offset: message.offset,
          key: message.key.toString(),
          value: message.value.toString(),
          n: message.headers.n.toString(),
        });
        if (got.length === 10) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.commitOffsets([{ topic, partition: 0, offset: "5" }, { topic, partition: 1, offset: "5" }]);
  await consumer.disconnect();
  const offsets = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] });
  const groups = await admin.listGroups();
  await admin.disconnect();
  console.log(JSON.stringify({ sent, got, offsets, groups }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
