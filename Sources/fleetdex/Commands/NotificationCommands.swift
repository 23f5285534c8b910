// fleetdex: `fleetdex sns ...` and `fleetdex sqs ...`: the topic and queue of the walkthrough.
import ArgumentParser
import FleetIndex
import Foundation

struct SNS: ParsableCommand {
    static let configuration = CommandConfiguration(command: "sns", abstract: "SNS topics and subscriptions, kept in the fleet's database.",
        subcommands: [CreateTopic.self, ListTopics.self, DeleteTopic.self, Subscribe.self, Unsubscribe.self, ListSubscriptions.self,
                      ListSubscriptionsByTopic.self, Publish.self])

    struct CreateTopic: ParsableCommand {
        static let configuration = CommandConfiguration(command: "create-topic", abstract: "Create a topic.",
            discussion: example("fleetdex sns create-topic --name Disconnected_things_notification"))
        @OptionGroup var g: GlobalOptions
        @Option var name: String
        func run() throws { Output.emit(try Notifications(try g.open()).createTopic(name: name, at: try g.now()), try g.format()) }
    }
    struct ListTopics: ParsableCommand {
        static let configuration = CommandConfiguration(command: "list-topics", abstract: "List topics.", discussion: example("fleetdex sns list-topics"))
        @OptionGroup var g: GlobalOptions
        func run() throws { Output.emit(try Notifications(try g.open()).listTopics(), try g.format()) }
    }
    struct DeleteTopic: ParsableCommand {
        static let configuration = CommandConfiguration(command: "delete-topic", abstract: "Delete a topic.",
            discussion: example("fleetdex sns delete-topic --topic-arn arn:aws:sns:us-east-1:123456789012:Disconnected_things_notification"))
        @OptionGroup var g: GlobalOptions
        @Option var topicArn: String
        func run() throws { Output.emit(try Notifications(try g.open()).deleteTopic(arn: topicArn), try g.format()) }
    }
    struct Subscribe: ParsableCommand {
        static let configuration = CommandConfiguration(command: "subscribe", abstract: "Subscribe a queue (sqs) or a webhook (http, https) to a topic.",
            discussion: example("fleetdex sns subscribe --topic-arn arn:aws:sns:us-east-1:123456789012:T --protocol sqs --notification-endpoint arn:aws:sqs:us-east-1:123456789012:Q"))
        @OptionGroup var g: GlobalOptions
        @Option var topicArn: String
        @Option(name: .customLong("protocol")) var proto: String
        @Option var notificationEndpoint: String
        @Flag var returnSubscriptionArn = false
        func run() throws {
            Output.emit(try Notifications(try g.open()).subscribe(topicARN: topicArn, protocol: proto, endpoint: notificationEndpoint, at: try g.now()), try g.format())
        }
    }
    struct Unsubscribe: ParsableCommand {
        static let configuration = CommandConfiguration(command: "unsubscribe", abstract: "Remove a subscription.",
            discussion: example("fleetdex sns unsubscribe --subscription-arn arn:aws:sns:...:T:uuid"))
        @OptionGroup var g: GlobalOptions
        @Option var subscriptionArn: String
        func run() throws { Output.emit(try Notifications(try g.open()).unsubscribe(arn: subscriptionArn), try g.format()) }
    }
    struct ListSubscriptions: ParsableCommand {
        static let configuration = CommandConfiguration(command: "list-subscriptions", abstract: "List subscriptions.", discussion: example("fleetdex sns list-subscriptions"))
        @OptionGroup var g: GlobalOptions
        func run() throws { Output.emit(try Notifications(try g.open()).listSubscriptions(topicARN: nil), try g.format()) }
    }
    struct ListSubscriptionsByTopic: ParsableCommand {
        static let configuration = CommandConfiguration(command: "list-subscriptions-by-topic", abstract: "List a topic's subscriptions.",
            discussion: example("fleetdex sns list-subscriptions-by-topic --topic-arn arn:aws:sns:us-east-1:123456789012:T"))
        @OptionGroup var g: GlobalOptions
        @Option var topicArn: String
        func run() throws { Output.emit(try Notifications(try g.open()).listSubscriptions(topicARN: topicArn), try g.format()) }
    }
    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(command: "publish", abstract: "Publish a message to a topic.",
            discussion: example("fleetdex sns publish --topic-arn arn:aws:sns:us-east-1:123456789012:T --message hello"))
        @OptionGroup var g: GlobalOptions
        @Option var topicArn: String
        @Option var message: String
        @Option var subject: String?
        func run() throws { Output.emit(try Notifications(try g.open()).publishOperation(topicARN: topicArn, message: message, subject: subject, at: try g.now()), try g.format()) }
    }
}

struct SQS: ParsableCommand {
    static let configuration = CommandConfiguration(command: "sqs", abstract: "SQS queues, kept in the fleet's database.",
        subcommands: [CreateQueue.self, ListQueues.self, GetQueueUrl.self, GetQueueAttributes.self, SetQueueAttributes.self, SendMessage.self,
                      ReceiveMessage.self, DeleteMessage.self, ChangeMessageVisibility.self, PurgeQueue.self, DeleteQueue.self])

    static func attributes(_ s: String?) throws -> [String: String] {
        guard let s else { return [:] }
        if s.hasPrefix("{") || s.hasPrefix("file://") {
            let v = try structured(s, "--attributes")
            var out: [String: String] = [:]
            for m in v.objectValue ?? [] { out[m.key] = m.value.stringValue ?? m.value.compact }
            return out
        }
        // Shorthand: Key=Value,Key=Value
        var out: [String: String] = [:]
        for pair in s.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw ValidationError("--attributes takes JSON or Key=Value,...") }
            out[String(kv[0])] = String(kv[1])
        }
        return out
    }

    struct CreateQueue: ParsableCommand {
        static let configuration = CommandConfiguration(command: "create-queue", abstract: "Create a queue.",
            discussion: example("fleetdex sqs create-queue --queue-name Disconnect_thing_notification_queue"))
        @OptionGroup var g: GlobalOptions
        @Option var queueName: String
        @Option(help: "JSON {\"VisibilityTimeout\":\"30\",\"RedrivePolicy\":\"...\"} or Key=Value,...") var attributes: String?
        func run() throws {
            Output.emit(try Notifications(try g.open()).createQueue(name: queueName, attributes: try SQS.attributes(attributes), at: try g.now()), try g.format())
        }
    }
    struct ListQueues: ParsableCommand {
        static let configuration = CommandConfiguration(command: "list-queues", abstract: "List queues.", discussion: example("fleetdex sqs list-queues"))
        @OptionGroup var g: GlobalOptions
        @Option var queueNamePrefix: String?
        func run() throws { Output.emit(try Notifications(try g.open()).listQueues(prefix: queueNamePrefix), try g.format()) }
    }
    struct GetQueueUrl: ParsableCommand {
        static let configuration = CommandConfiguration(command: "get-queue-url", abstract: "A queue's URL.",
            discussion: example("fleetdex sqs get-queue-url --queue-name Disconnect_thing_notification_queue"))
        @OptionGroup var g: GlobalOptions
        @Option var queueName: String
        func run() throws { Output.emit(try Notifications(try g.open()).getQueueURL(name: queueName), try g.format()) }
    }
    struct GetQueueAttributes: ParsableCommand {
        static let configuration = CommandConfiguration(command: "get-queue-attributes", abstract: "A queue's attributes (QueueArn, message counts, RedrivePolicy...).",
            discussion: example("fleetdex sqs get-queue-attributes --queue-url Disconnect_thing_notification_queue --attribute-names All"))
        @OptionGroup var g: GlobalOptions
        @Option var queueUrl: String
        @Option(parsing: .upToNextOption) var attributeNames: [String] = []
        func run() throws {
            let db = try g.open()
            Output.emit(try Notifications(db).getQueueAttributes(url: queueUrl, names: attributeNames, at: try g.now()), try g.format())
        }
    }
    struct SetQueueAttributes: ParsableCommand {
        static let configuration = CommandConfiguration(command: "set-queue-attributes", abstract: "Set VisibilityTimeout or a RedrivePolicy (dead-letter queue).",
            discussion: example(#"fleetdex sqs set-queue-attributes --queue-url Q --attributes '{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:DLQ\",\"maxReceiveCount\":\"3\"}"}'"#))
        @OptionGroup var g: GlobalOptions
        @Option var queueUrl: String
        @Option var attributes: String
        func run() throws { Output.emit(try Notifications(try g.open()).setQueueAttributes(url: queueUrl, attributes: try SQS.attributes(attributes)), try g.format()) }
    }
    struct SendMessage: ParsableCommand {
        static let configuration = CommandConfiguration(command: "send-message", abstract: "Send a message.",
            discussion: example("fleetdex sqs send-message --queue-url Q --message-body hello"))
        @OptionGroup var g: GlobalOptions
        @Option var queueUrl: String
        @Option var messageBody: String
        func run() throws { Output.emit(try Notifications(try g.open()).sendMessage(url: queueUrl, body: messageBody, at: try g.now()), try g.format()) }
    }
    struct ReceiveMessage: ParsableCommand {
        static let configuration = CommandConfiguration(command: "receive-message", abstract: "Receive up to 10 messages; each is hidden for the visibility timeout.",
            discussion: example("fleetdex sqs receive-message --queue-url Disconnect_thing_notification_queue --max-number-of-messages 10 --wait-time-seconds 20"))
        @OptionGroup var g: GlobalOptions
        @Option var queueUrl: String
        @Option var maxNumberOfMessages: Int = 1
        @Option(help: "Hide the messages received for this many seconds: 0 to 43200 (default: the queue's VisibilityTimeout).", transform: seconds(0...43200))
        var visibilityTimeout: Int64?
        @Option(help: "Wait up to this many seconds for a message: 0 to 20 (ignored with --at).", transform: seconds(0...20)) var waitTimeSeconds: Int = 0
        @Option(parsing: .upToNextOption) var attributeNames: [String] = []
        @Option(parsing: .upToNextOption) var messageSystemAttributeNames: [String] = []
        func run() throws {
            let db = try g.open()
            // With --at the clock is virtual: there is nothing to wait for.
            let wait = g.at == nil ? waitTimeSeconds : 0
            let clock = { Int64(Date().timeIntervalSince1970 * 1000) }
            let r = try Notifications(db).receiveMessage(url: queueUrl, max: maxNumberOfMessages, visibilityTimeout: visibilityTimeout, wait: wait,
                                                         at: g.at == nil ? clock() : try g.now(), attributeNames: attributeNames + messageSystemAttributeNames,
                                                         sleep: { usleep(UInt32($0) * 1000) }, clock: clock)
            Output.emit(r, try g.format())
        }
    }
    struct DeleteMessage: ParsableCommand {
        static let configuration = CommandConfiguration(command: "delete-message", abstract: "Delete a received message by its receipt handle.",
            discussion: example("fleetdex sqs delete-message --queue-url Q --receipt-handle HANDLE"))
        @OptionGroup var g: GlobalOptions
        @Option var queueUrl: String
        @Option var receiptHandle: String
        func run() throws { Output.emit(try Notifications(try g.open()).deleteMessage(url: queueUrl, receiptHandle: receiptHandle), try g.format()) }
    }
    struct ChangeMessageVisibility: ParsableCommand {
        static let configuration = CommandConfiguration(command: "change-message-visibility", abstract: "Hide a received message for longer (or show it now with 0).",
            discussion: example("fleetdex sqs change-message-visibility --queue-url Q --receipt-handle HANDLE --visibility-timeout 0"))
        @OptionGroup var g: GlobalOptions
        @Option var queueUrl: String
        @Option var receiptHandle: String
        @Option(help: "Seconds from now until the message is visible again: 0 to 43200.", transform: seconds(0...43200)) var visibilityTimeout: Int64
        func run() throws {
            Output.emit(try Notifications(try g.open()).changeMessageVisibility(url: queueUrl, receiptHandle: receiptHandle, timeout: visibilityTimeout, at: try g.now()), try g.format())
        }
    }
    struct PurgeQueue: ParsableCommand {
        static let configuration = CommandConfiguration(command: "purge-queue", abstract: "Delete every message of a queue.",
            discussion: example("fleetdex sqs purge-queue --queue-url Q"))
        @OptionGroup var g: GlobalOptions
        @Option var queueUrl: String
        func run() throws { Output.emit(try Notifications(try g.open()).purgeQueue(url: queueUrl), try g.format()) }
    }
    struct DeleteQueue: ParsableCommand {
        static let configuration = CommandConfiguration(command: "delete-queue", abstract: "Delete a queue and its messages.",
            discussion: example("fleetdex sqs delete-queue --queue-url Q"))
        @OptionGroup var g: GlobalOptions
        @Option var queueUrl: String
        func run() throws { Output.emit(try Notifications(try g.open()).deleteQueue(url: queueUrl), try g.format()) }
    }
}
